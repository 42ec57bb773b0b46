"""Running a submission in a separate, limited process, and surviving whatever it does.

The grading process never imports the submission: a :class:`Sandbox` starts
``python -m convgrader.running.worker`` (a fresh interpreter, never a fork, so no
OpenMP state is inherited), sends it calls over a socket in the safe wire
format, and turns every way the submission can misbehave into an exception
that costs one test:

============================  ============================================
the submission                what the test reports
============================  ============================================
raises (any exception)        :class:`SubmissionRaised`, with its traceback
loops forever, ignores        :class:`SubmissionTimeout`: "hung" or "too
SIGALRM, catches everything   slow", told apart by a probe on a tiny input
``sys.exit``, ``os._exit``,   :class:`SubmissionCrashed`, with the exit
segfaults, is killed          status or signal
allocates past the limit      ``MemoryError`` inside, reported as raised
prints hundreds of MB         nothing: output is drained and capped
sends part of a reply, stops  :class:`SubmissionTimeout` of that call only
sends a huge reply            :class:`SubmissionOversized`, refused unread
breaks a rule (fast layers,   :class:`SubmissionRaised` naming the rule
forbidden imports)            (:mod:`convgrader.running.no_fast_layers`,
                              :mod:`convgrader.running.rules`)
============================  ============================================

Each implementation gets two workers (:class:`GradedSandboxes`): the layer
functions run in one whose file system holds no fast code
(:data:`convgrader.running.isolation.LAYERS`), ``ThreeLayerConvNet`` in one
that has the provided fast and sandwich layers (``MODEL``). Neither can load
native code once the submission runs (:mod:`convgrader.running.native_code`).

The worker runs at the isolation level of :mod:`convgrader.running.isolation`
(bubblewrap namespaces where available, else a plain process). A worker that
cannot start is retried; if it still cannot, :class:`GradingFailed` (not a
:class:`SubmissionFailure`) says that grading failed, not the student.

After a crash or a timeout the worker is killed and the next call starts a new
one. Values come back as copies; objects that cannot be copied (a model, a
cache) stay in the worker and are used through :class:`RemoteObject`.
"""

import contextlib
import functools
import json
import os
import importlib.util
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from convgrader import limits, messages, paths
from convgrader.assignment import AREAS, BY_NAME, LAYER_FUNCTIONS, MODEL_CLASS
from convgrader.messages import Said, say, together
from convgrader.running import cgroups, cputime, isolation, no_fast_layers, wire, worker
from convgrader.running.implementation import ImplementationUnavailable
from convgrader.untrusted import shown, shown_name

PROJECT = str(paths.PROJECT)

#: Threads a submission's numpy and OpenMP code may use. One: the arrays of
#: the tests are small, where a second BLAS thread only contends (measured: the
#: digits training checks took 2 s with one thread, up to 29 s with two on a
#: busy 2-core machine), and a batch grades one submission per core. The same
#: number goes to both pools, since they take turns (the fast layers hold BLAS
#: to one thread while their OpenMP loop runs): measured by sampling a worker's
#: threads through the model's tests, one thread, never more than one running.
WORKER_THREADS = os.environ.get("CONVGRADER_WORKER_THREADS", "1")


class SubmissionFailure(Exception):
    """Something the submission did that costs the current test."""


class SubmissionRaised(SubmissionFailure):
    def __init__(self, type_name: str, message: str, traceback_text: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name, self.message, self.traceback_text = type_name, message, traceback_text


class SubmissionCrashed(SubmissionFailure):
    pass


class SubmissionOversized(SubmissionFailure):
    """The submission's reply was larger than :data:`limits.REPLY_BYTES`; it was not read."""


class GradingFailed(Exception):
    """The grader could not run the submission at all (the machine's fault): not a SubmissionFailure.

    Reports say "grading failed: <reason>" and charge the student nothing.
    """

    def __init__(self, reason):
        super().__init__(f"grading failed: {reason}")
        self.reason = reason


class StartupFailed(Exception):
    """One attempt to start a worker failed before any of the submission's code ran."""


class SubmissionTimeout(SubmissionFailure):
    def __init__(self, message, verdict):
        super().__init__(message)
        self.verdict = verdict  # "hung" or "too slow"


class OutputTap:
    """Drains a pipe in a thread, keeping the first ``limits.OUTPUT_BYTES`` bytes of each test's share."""

    def __init__(self, pipe):
        self.lock = threading.Lock()
        self.kept, self.total = bytearray(), 0
        self.thread = threading.Thread(target=self._drain, args=(pipe,), daemon=True)
        self.thread.start()

    def _drain(self, pipe):
        for chunk in iter(lambda: pipe.read1(1 << 16), b""):
            with self.lock:
                self.total += len(chunk)
                room = limits.OUTPUT_BYTES - len(self.kept)
                if room > 0:
                    self.kept += chunk[:room]

    def take(self):
        """The output since the last call, as (text kept, total bytes)."""
        with self.lock:
            kept, total = bytes(self.kept), self.total
            self.kept, self.total = bytearray(), 0
        return shown(bytes(kept)), total  # the submission's bytes: escapes, no control characters


def _said_from_wire(data: object) -> Said | None:
    """A message the worker sent as data (:meth:`Said.to_data`), or None when it is not a valid one.

    The worker shares its process with the submission, so the data is checked:
    a known key, plain fields, and every text field shown safely.
    """
    if not isinstance(data, dict):
        return None
    try:
        said = Said.from_data(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return Said.from_data(_safe_fields(said.to_data()))


def _frames_from_wire(frames: object) -> Said:
    """The submission's frames the worker sent (file, line, function, code), said one per line."""
    lines = []
    for frame in frames if isinstance(frames, list) else []:
        if isinstance(frame, list) and len(frame) == 4:
            file, line, function, code = (shown(str(part), limits.NAME_CHARACTERS) for part in frame)
            lines.append(say("frame", file=file, line=line, function=function, code=code))
    return together(*lines[-4:])


def _safe_fields(data: dict[str, Any]) -> dict[str, Any]:
    if "lines" in data:
        return {"lines": [_safe_fields(line) for line in data["lines"]]}
    return {"said": data["said"], "fields": {name: _safe_fields(value) if isinstance(value, dict)
                                             else shown(value) if isinstance(value, str) else value
                                             for name, value in data["fields"].items()}}


#: Signals whose cause is worth a word, by name (the message key's suffix).
EXPLAINED_SIGNALS = {"SIGSEGV": "segfault", "SIGKILL": "killed", "SIGXFSZ": "file_size"}


def describe_exit(code: int | None, what: str = "the submission") -> Said:
    """What a worker's exit status says about ``what``, as a message (:class:`~convgrader.messages.Said`)."""
    if code is None:
        return say("exit_stopped", what=what)
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        why = EXPLAINED_SIGNALS.get(name)
        return say("exit_signal", what=what, signal=name, why=say(f"signal_{why}") if why else "")
    return say("exit_status", what=what, status=code)


class Sandbox:
    """One implementation, run in a worker process that is restarted after every failure.

    Parameters
    ----------
    impl_value : str
        An importable package name or an absolute folder path (see
        :func:`convgrader.running.implementation.locate`); imported inside the worker only.
    label : str
        How reports name the implementation.
    deadline : float, optional
        ``time.time()`` after which no call starts: the run's wall-clock bound.
    memory_bytes : int, optional
        Address-space cap of the worker.
    call_timeout : float
        Seconds one call may take.
    level : str, optional
        ``"namespaces"`` or ``"process"`` (see :mod:`convgrader.running.isolation`);
        by default ``$CONVGRADER_ISOLATION`` or the strongest this machine offers.
    role : str
        ``isolation.LAYERS`` (no fast code) or ``isolation.MODEL`` (the provided fast layers):
        which parts this worker may grade (see :func:`role_of`).
    """

    def __init__(self, impl_value, label, deadline=None, memory_bytes=None, call_timeout=limits.CALL,
                 level=None, role=isolation.MODEL):
        self.impl_value, self.label = impl_value, label
        self.folder = implementation_folder(impl_value)
        self.level = isolation.chosen_level(level)
        self.role = role
        self.workdir = self.staged = self.group = None
        self.deadline, self.call_timeout = deadline, call_timeout
        self.memory_bytes = memory_bytes or default_memory_cap()
        self.process = self.sock = self.tap = self.meter = None
        self.generation = 0
        self.tamper_events = []
        self._lookups = {}
        self.hung = set()  # names that hung even on a tiny input: later calls fail at once
        self.cpu_spent = 0.0  # CPU seconds of this run's stopped workers (a running one's are read when needed)

    # -- the graded names, as Implementation offers them -----------------------------------------
    def get(self, name):
        if name not in self._lookups or self._lookups[name]._generation != self.generation:
            found = self.request({"op": "lookup", "name": name}, what=name)
            object.__setattr__(found, "__name__", name)
            self._lookups[name] = found
        return self._lookups[name]

    def __getattr__(self, name):
        if name in BY_NAME:
            return self.get(name)
        raise AttributeError(name)

    # -- the worker's life ----------------------------------------------------------------------
    def start(self):
        """Start a worker and wait for it to answer, retrying what is not the submission's fault.

        Nothing of the submission runs before the worker's first answer, so a
        failure then is the machine's (a loaded machine, a missing library):
        it is retried with backoff, and if it persists the call raises
        :class:`GradingFailed`, which never costs the student points.
        """
        failures = []
        for attempt in range(limits.STARTUP_ATTEMPTS):
            try:
                self._start_once()
                return
            except StartupFailed as error:
                failures.append(str(error))
                self.stop()
                if attempt + 1 < limits.STARTUP_ATTEMPTS:
                    time.sleep(limits.STARTUP_BACKOFF * 2 ** attempt)
        raise GradingFailed(f"the sandbox could not start ({limits.STARTUP_ATTEMPTS} attempts): "
                            + "; ".join(failures))

    def _start_once(self):
        parent, child = socket.socketpair()
        worker_limits = {"memory_bytes": self.memory_bytes, "file_bytes": limits.FILE_BYTES,
                         "protected": protected_paths(self.impl_value),
                         "block_answer_key": not grades_answer_key(self.impl_value),
                         "import_rule": not isolation.is_trusted(self.folder), "role": self.role}
        environment = isolation.minimal_environment({name: WORKER_THREADS for name in limits.THREAD_VARIABLES})
        # Isolated mode: no PYTHON* variables, no user site, no working folder on sys.path.
        python = [sys.executable, "-I", "-B", "-u", "-c", worker.BOOTSTRAP, json.dumps([PROJECT])]
        user, workdir = {}, None
        if self.level == isolation.NAMESPACES:
            self.staged = stage_python_source(self.folder)
            command = isolation.bwrap_command(
                python + [str(child.fileno()), isolation.inside_path(self.folder), json.dumps(worker_limits)],
                self.folder, environment, role=self.role, staged=self.staged)
            workdir_for_popen = "/"
        else:
            command = python + [str(child.fileno()), self.impl_value, json.dumps(worker_limits)]
            user = unprivileged_user()
            # A folder of its own, writable by the worker's user alone.
            workdir = workdir_for_popen = tempfile.mkdtemp(prefix="convgrader-sandbox-")
            if user:
                shutil.chown(workdir, user["user"], user["group"])
        if self.level == isolation.PROCESS:
            become_subreaper()
        self.group = cgroups.make_group(limits.WORKER_TASKS, self.memory_bytes, user.get("user"))
        command = cgroups.joining(self.group, command)
        try:
            self.process = subprocess.Popen(
                command, pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, cwd=workdir_for_popen, env=environment, start_new_session=True,
                **user)
        except OSError as error:
            parent.close()
            raise StartupFailed(f"cannot run the worker ({error})") from None
        finally:
            child.close()
        _LIVE_WORKERS.add(self.process.pid)
        self.meter = cputime.Meter(self.process.pid)
        self.workdir = workdir
        self.sock, self.tap = parent, OutputTap(self.process.stdout)
        # Starting Python and numpy is not the submission's time: wait for it apart.
        try:
            wire.send(self.sock, {"op": "ping"})
            wire.receive(self.sock, deadline=time.monotonic() + limits.STARTUP, max_bytes=1 << 16)
        except wire.WireTimeout:
            raise StartupFailed(f"no answer within {limits.STARTUP:g} s") from None
        except (EOFError, OSError, wire.WireError):
            detail = self.tap.take()[0].strip()[-limits.STARTUP_DETAIL_CHARACTERS:] if self.tap else ""
            # A reason of grading, for the instructor's records: in English, as every such reason.
            raise StartupFailed(describe_exit(self._exit_code(), "the worker").in_language("en")
                                + (f" ({detail})" if detail else "")) from None

    def ensure_running(self):
        """Start a worker if there is none, or if the last one died after its last answer."""
        if self.process is not None and self.process.poll() is not None:
            self.stop()  # it died after its last answer: not the next call's fault
        if self.process is None:
            self.start()

    def stop(self):
        """Kill the worker and everything it started; every object it held is lost (see RemoteObject's generation)."""
        self.generation += 1
        if self.process is not None:
            self.cpu_spent += self.meter.read().cpu
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait()
            self.sock.close()
            _LIVE_WORKERS.discard(self.process.pid)
            if self.level == isolation.PROCESS:
                reap_strays()
        for folder in (self.workdir, self.staged):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
        if self.group is not None:
            self.group.remove()
        self.workdir = self.staged = self.group = None
        self.process = None

    close = stop

    # -- one request ----------------------------------------------------------------------------
    def request(self, header: dict[str, Any], blobs: Sequence[bytes] = (), what: str = "the submission",
                timeout: float | None = None) -> Any:
        """Send a request; return the decoded value and the changed arguments.

        ``timeout`` (default ``call_timeout``) is a budget of the worker's CPU
        seconds, read from outside it (:mod:`convgrader.running.cputime`); see
        :meth:`_await_reply` for what happens when it or the wall-clock backstop runs out.
        """
        if what in self.hung:
            raise SubmissionTimeout(say("hung_before", what=what), "hung")
        self.ensure_running()
        budget = self.call_timeout if timeout is None else timeout
        if self.deadline is not None and self.deadline - time.time() <= 0:
            raise self._run_limit_reached()
        generation = self.generation
        try:
            # A worker that reads nothing cannot block the grader's send.
            self.sock.settimeout(budget * limits.WALL_FACTOR)
            wire.send(self.sock, header, blobs)
            reply, reply_blobs = self._await_reply(budget, what)
        except socket.timeout:
            self.stop()
            raise self.timeout(what, budget) from None
        except wire.WireOversized as error:
            self.stop()
            raise SubmissionOversized(say("reply_oversized", what=what, size=error.size / 1e6,
                                          cap=error.cap / 1e6)) from None
        except (EOFError, OSError, wire.WireError) as error:
            code = self._exit_code()
            self.stop()
            if isinstance(error, wire.WireError):
                raise SubmissionCrashed(say("reply_unreadable", what=what, error=str(error))) from None
            raise SubmissionCrashed(describe_exit(code, what)) from None
        finally:
            if self.sock is not None and self.sock.fileno() != -1:
                self.sock.settimeout(None)
        tamper, raised = _reply_texts(reply, what)
        self.tamper_events += [e for e in tamper if e not in self.tamper_events]
        resolve = lambda h: RemoteObject(self, h, generation)  # noqa: E731
        if raised is not None:
            message = _said_from_wire(raised["said"]) or raised["message"]
            if raised["code"] == worker.NOT_IMPLEMENTED:
                raise NotImplementedError(message)
            if raised["code"] == worker.UNAVAILABLE:
                raise ImplementationUnavailable(message)
            if raised["type"] == "FastLayersUnavailable":
                message = fast_layers_refusal(raised.get("fields"), message)
            raise SubmissionRaised(raised["type"], message, _frames_from_wire(raised["frames"]))
        value = wire.decode(reply["ok"], reply_blobs, resolve)
        changed = {i: wire.decode(v, reply_blobs, resolve) for i, v in reply.get("changed", [])}
        return (value, changed) if header["op"] == "call" else value

    def _await_reply(self, budget, what):
        """The worker's reply, waited for while its processes use at most ``budget`` CPU seconds.

        Every ``limits.CPU_POLL`` seconds the worker's process tree is measured
        from outside. The submission is charged (:meth:`timeout`: "too slow" or
        "hung") when its CPU time reaches ``budget``, or when its own time (wall
        time less the time it waited for a CPU) does while it sleeps or blocks.
        When the wall-clock backstop (``budget * limits.WALL_FACTOR``) or the
        run's deadline comes first, the machine was too busy: :class:`GradingFailed`,
        which ``grade`` retries once and never charges.
        """
        start, started = self.meter.read(), time.monotonic()
        backstop = started + budget * limits.WALL_FACTOR
        while True:
            try:
                readable, _, _ = select.select([self.sock], [], [], limits.CPU_POLL)
                if readable:
                    # The reply is written at once when the call ends: one that stops midway is the submission's.
                    deadline = min(backstop, time.monotonic() + budget)
                    return wire.receive(self.sock, deadline=deadline, max_bytes=limits.REPLY_BYTES)
                stalled = False
            except wire.WireTimeout:
                stalled = True  # part of a reply came, then nothing until the backstop
            used = self.meter.read() - start
            elapsed = time.monotonic() - started
            if used.cpu >= budget or elapsed - used.waited >= budget or stalled and used.waited < elapsed / 2:
                self.stop()
                raise self.timeout(what, budget)
            run_over = self.deadline is not None and time.time() >= self.deadline
            if stalled or run_over or time.monotonic() >= backstop:
                self.stop()
                if run_over:
                    raise self._run_limit_reached()
                raise GradingFailed(f"the machine was too busy: {what} got {used.cpu:.1f} s of CPU "
                                    f"(its budget is {budget:g} s) in {elapsed:.0f} s of wall time")

    def _run_limit_reached(self):
        """The run's wall-clock deadline passed: the submission's fault only if it used the run's CPU budget."""
        spent = self.cpu_spent + (self.meter.read().cpu if self.process is not None else 0.0)
        if spent >= limits.RUN_CPU:
            return SubmissionTimeout(say("run_time_limit"), "time limit")
        return GradingFailed(f"the machine was too busy: the grading run reached its wall-clock limit after "
                             f"{spent:.0f} s of the submission's CPU time")

    def _exit_code(self):
        """The worker's exit status (negative: the signal that ended it), None if it is still running."""
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return None
        # bwrap passes on a worker's death by signal as 128 + the signal's number.
        if self.level == isolation.NAMESPACES and code > 128:
            return 128 - code
        return code

    def timeout(self, what, budget):
        """Tell 'too slow' from 'hung' by running the same function on a tiny input."""
        if self.label == PROBE_LABEL:  # a probe that times out is itself the answer
            return SubmissionTimeout(say("timed_out_tiny", what=what), "hung")
        finished = probe(self.impl_value, what, self.role)
        if not finished:
            self.hung.add(what)
        if finished:
            return SubmissionTimeout(say("too_slow", what=what, seconds=budget), "too slow")
        return SubmissionTimeout(say("hung", what=what, seconds=budget), "hung")

    def take_output(self):
        return self.tap.take() if self.tap else ("", 0)


#: The provided fast layers, which the layer functions' worker refuses.
FAST_LAYERS = tuple(no_fast_layers.__all__)


def fast_layers_refusal(fields, message):
    """The refusal of a fast layer in the student's language, or ``message`` when ``fields`` are not the worker's.

    The worker's process is the submission's, so its fields are believed only
    when they name a graded layer function and a provided fast layer.
    """
    fields = fields if isinstance(fields, dict) else {}
    name, provided = fields.get("name"), fields.get("provided")
    if name not in LAYER_FUNCTIONS or provided not in FAST_LAYERS:
        return message
    return messages.say("fast_layers_refused", name=name, provided=provided,
                        computes=messages.say(f"computes_{name}"))


def role_of(name):
    """The worker that grades the part ``name``: the model's has the fast layers, the layer functions' none."""
    return isolation.MODEL if BY_NAME[name].is_class else isolation.LAYERS


class GradedSandboxes:
    """One implementation in two sandboxes, each part served by the worker its rules call for.

    The layer functions run where no fast code exists, ``ThreeLayerConvNet``
    where the provided fast layers do (:func:`role_of`). Each worker starts on
    the first call of one of its parts. Takes :class:`Sandbox`'s arguments.
    """

    def __init__(self, impl_value, label, **options):
        self.impl_value, self.label = impl_value, label
        self.workers = {role: Sandbox(impl_value, label, role=role, **options) for role in isolation.ROLES}
        self.level = self.workers[isolation.LAYERS].level

    def get(self, name):
        return self.workers[role_of(name)].get(name)

    def __getattr__(self, name):
        if name in BY_NAME:
            return self.get(name)
        raise AttributeError(name)

    @property
    def tamper_events(self):
        return [event for worker_ in self.workers.values() for event in worker_.tamper_events]

    def take_output(self):
        """What both workers printed since the last call, as (text kept, total bytes)."""
        taken = [worker_.take_output() for worker_ in self.workers.values()]
        return "".join(text for text, _ in taken), sum(total for _, total in taken)

    def stop(self):
        for worker_ in self.workers.values():
            worker_.stop()

    close = stop


def _reply_texts(reply, what):
    """A reply's tamper events and error (None when it has none), as text safe to show.

    Everything in a reply was written by the worker, where the submission
    runs: its text is made safe here, as it enters the grader
    (:func:`convgrader.untrusted.shown`), and a reply not shaped as a worker
    sends it costs the test like an unreadable one.
    """
    tamper, error = reply.get("tamper", []) if isinstance(reply, dict) else None, None
    if isinstance(reply, dict) and "error" in reply:
        error = reply["error"]
    if not isinstance(tamper, list) or not isinstance(error, (dict, type(None))):
        raise SubmissionCrashed(say("reply_misshapen", what=what))
    tamper = [shown(event, newlines=False) for event in tamper]
    if error is not None:
        # Text made safe here; the harness's message (said), the frames and a refusal's fields are checked
        # and made safe where they are read (_said_from_wire, _frames_from_wire, fast_layers_refusal).
        error = {"code": shown(error.get("code", ""), newlines=False), "type": shown_name(error.get("type", "")),
                 "message": shown(error.get("message", "")), "said": error.get("said"),
                 "frames": error.get("frames"), "fields": error.get("fields")}
    return tamper, error


class RemoteObject:
    """An object living in the sandbox: call it, read or set its attributes and items."""

    def __init__(self, sandbox, handle, generation, name=None):
        object.__setattr__(self, "_sandbox", sandbox)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_generation", generation)
        object.__setattr__(self, "__name__", name or handle.type_name)

    def __repr__(self):
        return f"<{self._handle.type_name} of {self._sandbox.label} (sandboxed)>"

    def _send(self, header, args, blobs):
        """Send a request about this object, once sure that it and every handle in ``args`` still exist."""
        self._sandbox.ensure_running()
        handles = [self] + [a for a in args if isinstance(a, RemoteObject)]
        if any(h._generation != self._sandbox.generation for h in handles):
            raise SubmissionCrashed(say("object_lost"))
        return self._sandbox.request(header, blobs, what=self.__name__)

    def _request(self, op, *args):
        blobs = []
        header = {"op": op, "handle": self._handle.id, "args": [wire.encode(a, blobs, _as_handle) for a in args]}
        return self._send(header, args, blobs)

    def __call__(self, *args, **kwargs):
        return self._call(args, kwargs)

    def for_cache(self, *args):
        """Call a forward only for the cache its backward's test needs.

        The forward is judged in its own tests: during this call a fast layer it
        calls on the side returns None (it computes nothing in the layer
        functions' worker, see :mod:`convgrader.running.no_fast_layers`) instead
        of refusing, so a refused forward does not cost its backward's points too.
        """
        return self._call(args, {}, purpose="cache")

    def _call(self, args, kwargs, purpose="graded"):
        blobs = []
        header = {"op": "call", "handle": self._handle.id, "name": self.__name__, "purpose": purpose,
                  "args": [wire.encode(a, blobs, _as_handle) for a in args],
                  "kwargs": wire.encode(kwargs, blobs, _as_handle)}
        value, changed = self._send(header, list(args) + list(kwargs.values()), blobs)
        for index, new in changed.items():
            write_back(args[index], new)
        if isinstance(value, RemoteObject) and value.__name__ in (value._handle.type_name,):
            object.__setattr__(value, "__name__", f"{self.__name__}(...)")
        return value

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = self._request("getattr", name)
        if isinstance(value, RemoteObject):
            object.__setattr__(value, "__name__", f"{self.__name__.split('(')[0]}.{name}")
        return value

    def __setattr__(self, name, value):
        self._request("setattr", name, value)

    def __getitem__(self, key):
        return self._request("getitem", key)

    def __setitem__(self, key, value):
        self._request("setitem", key, value)

    def keys(self):
        return self._request("keys")

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self.keys())

    def __contains__(self, key):
        return key in self.keys()

    def items(self):
        return [(k, self[k]) for k in self.keys()]


def _as_handle(value):
    if isinstance(value, RemoteObject):
        return value._handle
    raise wire.WireError(f"cannot send a {type(value).__name__} to the sandbox")


def write_back(original, new):
    """Mirror a change the submission made to an argument (an array in place, a dict's items)."""
    if isinstance(original, dict) and isinstance(new, dict):
        original.clear()
        original.update(new)
    elif isinstance(original, np.ndarray) and isinstance(new, np.ndarray) and new.shape == original.shape:
        np.copyto(original, new, casting="unsafe")


# -- probing a timed-out function on a tiny input --------------------------------------------------

PROBE_LABEL = "probe"


def probe(impl_value, what, role=isolation.MODEL):
    """True when ``what`` returns (or raises) promptly on a tiny input in a fresh sandbox of ``role``."""
    # Starting the worker and importing the submission get the usual bound;
    # only the tiny calls themselves must finish within limits.PROBE.
    sandbox = Sandbox(impl_value, PROBE_LABEL, role=role)

    @contextlib.contextmanager
    def probe_budget():
        sandbox.call_timeout = limits.PROBE
        yield

    try:
        run_on_tiny_input(sandbox.get, what, probe_budget)
        return True
    except SubmissionTimeout:
        return False
    except Exception:
        return True  # it answered, even if wrongly: not hung
    finally:
        sandbox.stop()


def run_on_tiny_input(get, what, budget):
    """Call ``what`` (with its forward, for a backward) on a tiny input.

    Parameters
    ----------
    get : callable
        ``get(name)``: a graded name of the implementation (a function or the model's class).
    what : str
        The graded name, or a name derived from it (``ThreeLayerConvNet.loss``).
    budget : callable
        A context manager bounding the tiny calls only (not the look-ups, which may import).
    """
    name = what.split(".")[0].split("(")[0]
    if name in BY_NAME and name != MODEL_CLASS:
        part = BY_NAME[name]
        functions = [get(n) for n in (part.forward, name) if n]
        args = AREAS[part.area].tiny_inputs()
        with budget():
            if part.forward:
                out, cache = functions[0](*args)
                functions[1](np.ones_like(out), cache)
            else:
                functions[0](*args)
    else:  # the model: a tiny network on two tiny images
        model_class = get(MODEL_CLASS)
        with budget():
            model = model_class(input_dim=(1, 4, 4), num_filters=2, filter_size=3,
                                hidden_dim=3, num_classes=2, dtype=np.float64)
            model.loss(np.zeros((2, 1, 4, 4)), np.array([0, 1]))


# -- the worker's limits and user ------------------------------------------------------------------

def default_memory_cap():
    """Half the machine's memory, at most 8 GiB: a submission never takes the grader down."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 << 30
    return int(min(total // 2, limits.MEMORY_BYTES_MAX))


def implementation_folder(impl_value):
    """The folder of an implementation given as a folder path or an importable package name."""
    if os.path.isdir(impl_value):
        return os.path.realpath(impl_value)
    spec = importlib.util.find_spec(impl_value)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"{impl_value} is not a package laid out like student_impl/")
    return os.path.realpath(list(spec.submodule_search_locations)[0])


#: pids of the workers this process started and has not stopped yet.
_LIVE_WORKERS: set[int] = set()


@functools.cache
def become_subreaper():
    """Make this process adopt its workers' orphans (Linux), so :func:`reap_strays` can find them.

    A daemon a submission starts in a session of its own, or by forking twice,
    would otherwise be adopted by init and outlive its grading.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def reap_strays():
    """At the process level, kill and reap the orphans of stopped workers that this process adopted.

    Any child of this process that is not a live worker is such an orphan: the
    grader starts no other long-lived children. (The namespaces level needs
    none of this: its PID namespace ends with the worker.)
    """
    if not become_subreaper():
        return
    me = str(os.getpid())
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in _LIVE_WORKERS:
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = stat.read().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
        if parent == me:
            try:
                os.kill(int(entry), signal.SIGKILL)
                os.waitpid(int(entry), 0)
            except (ChildProcessError, ProcessLookupError, PermissionError):
                pass


def stage_python_source(folder):
    """A private copy of ``folder`` holding its Python source only, for a sandbox to see instead of it.

    Regular ``*.py`` files and the folders holding them; never a symbolic link
    (it could point at the grader's files), a compiled module (``.so``,
    ``.pyd``, ``.pyc``) or any other file the submission shipped. Returns the copy's path.
    """
    copy = tempfile.mkdtemp(prefix="convgrader-source-")
    for root, folders, files in os.walk(folder, followlinks=False):
        relative = os.path.relpath(root, folder)
        folders[:] = [f for f in folders if not os.path.islink(os.path.join(root, f))]
        for name in files:
            source = os.path.join(root, name)
            if name.endswith(".py") and not os.path.islink(source) and os.path.isfile(source):
                target = os.path.join(copy, relative, name)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(source, target)
    os.chmod(copy, 0o755)
    return copy


def grades_answer_key(impl_value):
    return os.path.realpath(impl_value) == str(paths.ANSWER_KEY)


def protected_paths(impl_value):
    """Paths whose opening by the submission is tampering: the answer key (unless graded), fixtures and tests for writing."""
    protected = [(str(paths.FIXTURES.parent), True), (str(paths.TESTS), True), (str(paths.HARNESS), True)]
    if not grades_answer_key(impl_value):
        protected.append((str(paths.ANSWER_KEY), False))
    return protected


@functools.cache
def unprivileged_user():
    """``user``/``group`` arguments for Popen: 'nobody' when grading as root and nobody can run Python here.

    As root, the submission then cannot read files only root may read (the
    answer key on a Gradescope image), write the reports, or signal the grader.
    Where 'nobody' cannot even start this interpreter (it lives in root's home),
    the worker keeps the grader's user, and the README's threat model says so.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return {}
    candidate = {"user": "nobody", "group": "nogroup"}
    try:
        check = subprocess.run([sys.executable, "-c", "import numpy, convgrader"], cwd="/",
                               env=dict(os.environ, PYTHONPATH=PROJECT), capture_output=True,
                               timeout=60, **candidate)
    except (OSError, subprocess.SubprocessError, KeyError):
        return {}
    return candidate if check.returncode == 0 else {}
