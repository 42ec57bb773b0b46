"""Every time and size limit of grading, in one place.

What a submission is charged with ("too slow", "hung", a test's time limit) is
measured in CPU seconds of its own processes, never in wall seconds, so that
the same code gets the same verdict on a quiet laptop and on a busy runner:

- with ``--isolate`` (``grade``, ``batch``), the grader reads the worker's
  process tree from outside, in ``/proc`` (utime + stime + cutime + cstime of the
  worker and everything below it, the sandbox's whole PID namespace): see
  :mod:`convgrader.running.cputime`. The submission cannot fake it.
- in plain ``pytest`` (in-process, how students check their code), a CPU-time
  alarm (``setitimer(ITIMER_PROF)``) bounds each test: see
  :mod:`convgrader.judging.cpu_budget`.

CPU budgets nest, each inner one ending its own work before the outer one would:

    PROBE  <  CALL (one call with --isolate; one whole test in-process)  <  RUN_CPU

Wall-clock limits remain as generous backstops only, each far above its CPU
budget. Hitting one while the CPU budget is not used up is the machine's fault
("grading failed: the machine was too busy", retried once by ``grade``), never
the student's:

    CALL * WALL_FACTOR (one call)  <  ISOLATED_TEST / TEST (pytest-timeout)  <  RUN  <  WALL_CLOCK

- ``RUN``: one ``grade`` run, all tests (``--time-limit``); no call starts after it, and
  pytest gets ``RUN_GRACE`` more to write its last verdicts.
- ``WALL_CLOCK``: what ``batch`` and the Gradescope runner allow one ``grade``
  process before killing it: the run's limit plus ``WALL_CLOCK_MARGIN`` to write reports.
"""

#: CPU seconds one call may use. Loop-style naive code needs about 2 s for the notebook's
#: largest convolution on a 2-core machine; 30x that is slow but correct, beyond it hopeless.
CALL = 60.0
#: A call's wall-clock backstop is this many times its CPU budget: a submission that gets
#: less than a tenth of a core is on a machine too busy to grade.
WALL_FACTOR = 10
#: Seconds between two readings of a worker's CPU time while a call runs.
CPU_POLL = 0.2
#: Seconds a new worker may take to start Python and numpy, on a loaded machine (not the submission's time).
STARTUP = 120.0
#: Tries to start a worker before grading fails (the machine's fault, never the student's),
#: and the first pause between them in seconds (doubled each time).
STARTUP_ATTEMPTS = 3
STARTUP_BACKOFF = 1.0
#: CPU seconds the tiny probe input may use before the code is called hung.
PROBE = 10.0
#: Wall-clock seconds a graded test may run in-process (pytest-timeout), the last backstop
#: behind its CPU budget (CALL: a test's calls are a few, and the slowest one dominates).
TEST = 900
#: Wall-clock seconds a graded test may run with --isolate, where each call is bounded by CALL.
ISOLATED_TEST = 900
#: Seconds one grade run may take (``grade --time-limit``).
RUN = 1200.0
#: CPU seconds of the submission's calls after which reaching RUN is the submission's doing.
RUN_CPU = RUN / 2
#: Seconds pytest may go on past RUN to record its last verdicts.
RUN_GRACE = 60.0
#: Seconds on top of RUN before a grade process is killed from outside.
WALL_CLOCK_MARGIN = 180.0
WALL_CLOCK = RUN + WALL_CLOCK_MARGIN

#: Bytes of the submission's printed output kept per test.
OUTPUT_BYTES = 4096
#: Characters of a failure message a report shows: each writer cuts it there, once (the outcome log
#: keeps the failure whole, as data).
MESSAGE_CHARACTERS = 2000
#: Characters of what the submission printed shown with a test.
PRINTED_SHOWN_CHARACTERS = 500
#: Lines of what the submission printed shown under a failure in a plain pytest run (the last ones).
PRINTED_SHOWN_LINES = 3
#: Characters of one string from a submission (a message, a repr, printed output) that any
#: report shows; :func:`convgrader.untrusted.shown` cuts the rest.
SHOWN_CHARACTERS = 20000
#: Characters of a file or folder name from a submission that any report shows.
NAME_CHARACTERS = 200
#: Pairs ``similarity`` shows side by side on its page (each holds two submissions' code); the CSV has them all.
SIMILARITY_PAIRS_SHOWN = 200
#: Bytes of a submission's name as a folder of batch's OUT (file systems allow 255; escapes lengthen a name).
SUBMISSION_NAME_BYTES = 160
#: Bytes one file written by the submission may have (RLIMIT_FSIZE).
FILE_BYTES = 64 << 20
#: Bytes of the largest reply a call may send back. The tests' largest result is a few MB;
#: a reply is refused before the grader allocates anything for it.
REPLY_BYTES = 256 << 20
#: Bytes of the largest message the wire format accepts unless told less: no peer exhausts the other's memory.
MESSAGE_BYTES = 1 << 30
#: Bytes of a message's JSON header: it describes the structure (arrays travel apart), and parsing JSON
#: costs many times its size in objects, so it gets a much smaller cap.
HEADER_BYTES = 8 << 20
#: Bytes of the private tmpfs a sandboxed worker gets as /tmp and working folder.
TMPFS_BYTES = 256 << 20
#: The most address space a worker may have; at most half the machine's memory. Where the worker gets a
#: control group (:mod:`convgrader.running.cgroups`) the same number caps the memory of all its processes.
MEMORY_BYTES_MAX = 8 << 30
#: Processes and threads a worker may hold at once, itself and bubblewrap's two included (a control group's
#: ``pids.max``, where the grader can make one). The worker itself needs four; a fork or thread bomb stops here.
WORKER_TASKS = 32

assert PROBE < CALL < RUN_CPU and CALL < TEST
assert CALL * WALL_FACTOR < ISOLATED_TEST < RUN < RUN + RUN_GRACE < WALL_CLOCK

#: The environment variables that size the thread pools of numpy's BLAS and of OpenMP: the sandbox
#: sets them for its worker, ``batch`` for the gradings it runs side by side.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

# -- what the reports and logs keep of long texts --------------------------------------------------
#: Events of tampering one reply of the worker carries.
TAMPER_EVENTS_SENT = 20
#: Different failures of one part shown in full, in the terminal (all of them with -v) and in the HTML
#: report alike; the others are named.
FAILURES_SHOWN_PER_PART = 3
#: Characters of a parameter's repr a failure's figure keeps.
PARAMETER_CHARACTERS = 80
#: Characters of a worker's output that say why it could not start.
STARTUP_DETAIL_CHARACTERS = 500
#: Characters of the grade log the Gradescope runner prints (Gradescope keeps it for the instructor).
GRADE_LOG_CHARACTERS = 20000
#: Characters of a JUnit failure's one-line ``message`` attribute (the full text is its body).
JUNIT_MESSAGE_CHARACTERS = 300
#: Failures the Markdown summary lists, and characters of each one's first line.
MARKDOWN_FAILURES = 30
MARKDOWN_LINE_CHARACTERS = 200
#: Changes to the harness named in batch's one-line error, and listed in its long one.
HARNESS_CHANGES_NAMED = 10
HARNESS_CHANGES_LISTED = 50
