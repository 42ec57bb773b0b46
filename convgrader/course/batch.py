"""The ``batch`` and ``merge-gradebooks`` commands: grading a whole class.

``python -m convgrader batch SUBMISSIONS --out OUT`` grades every entry of
SUBMISSIONS (a folder or a .zip per student) into ``OUT/gradebook.csv`` and
``OUT/<name>/results.json`` (and ``report.html``, the same report as a page). Each submission is cleaned up by
:mod:`convgrader.course.submissions`, then graded by ``python -m convgrader grade`` in
a process of its own (student code never runs in the batch process), several
at a time, each stopped after a wall-clock cap. Nothing a submission does
stops the batch: it gets a row saying what went wrong. A rerun skips the
submissions already graded, unless ``--force``.

``--shard i/n`` grades every n-th submission so that n machines (a CI
matrix) share a class; ``merge-gradebooks`` joins their gradebooks.
"""

import argparse
import csv
import hashlib
import os
import re
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath

from convgrader import language, limits, paths
from convgrader.course.submissions import Limits, SubmissionRejected, is_junk, normalize, walk
from convgrader.paths import PROJECT
from convgrader.report import (COLUMNS, GRADED, GRADING_FAILED, REJECTED, Report, read_results_json, to_csv_row,
                               write_results_json)
from convgrader.running import isolation
from convgrader.untrusted import shown, shown_name

#: The page ``grade --html`` writes next to each results.json (points, pictures of failed comparisons).
REPORT_PAGE = "report.html"
# `grade` exits 0 when it graded (1 with --fail-under and a low score) and 2 when it could not.
GRADE_RAN = (0, 1)
GRADE_COULD_NOT_RUN = 2
#: The gradebook of an unsharded batch, in OUT.
GRADEBOOK = "gradebook.csv"
SHARD_FILE = re.compile(r"gradebook-shard-(\d+)-of-(\d+)\.csv$")
#: Exit status of a batch stopped because the harness changed under it.
HARNESS_CHANGED_STATUS = 3


def register(commands):
    batch_parser = commands.add_parser(
        "batch", help="grade a folder of submissions into a gradebook",
        description="Grade every submission (a folder or a .zip each) in SUBMISSIONS into "
                    "OUT/gradebook.csv and OUT/<name>/results.json, each in a grading process of its own.",
        epilog="Options it does not know are passed on to `grade` (and through it to pytest), "
               "e.g. -k conv_forward.")
    batch_parser.add_argument("submissions", type=Path, metavar="SUBMISSIONS",
                              help="a folder holding one folder or .zip per submission")
    batch_parser.add_argument("--out", type=Path, required=True, metavar="OUT",
                              help="where gradebook.csv and a folder per submission are written")
    batch_parser.add_argument("--jobs", type=_positive_int, default=_cores(), metavar="N",
                              help="submissions graded at the same time (default: the cores, %(default)s here)")
    batch_parser.add_argument("--shard", type=_shard, default=None, metavar="I/N",
                              help="grade only the I-th of N equal shares of the class (1-based)")
    batch_parser.add_argument("--force", action="store_true",
                              help="regrade submissions that are already graded")
    # A gradebook is the grade of record: hidden tests, and visible tests only where their twins pass.
    batch_parser.add_argument("--hidden", action=argparse.BooleanOptionalAction, default=True,
                              help="run the hidden tests and their twins, so that memorized visible answers do "
                                   "not pay (default; --no-hidden grades the visible tests alone, as students do)")
    batch_parser.add_argument("--lang", default=None, metavar="ru|en",
                              help=f"language of every results.json and report.html: ru or en (default: "
                                   f"${language.ENV_VAR}, a Russian locale, the project's {language.INI_OPTION}, "
                                   f"then en)")
    batch_parser.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                              help="passed on to `grade` (its bound on one submission's run)")
    batch_parser.add_argument("--allow-weak-isolation", action="store_true",
                              help="grade even where the sandbox cannot use Linux namespaces (bubblewrap): "
                                   "submissions then run as separate processes only, and the harness is "
                                   "fingerprinted around each one")
    batch_parser.add_argument("--wall-clock", type=float, default=None, metavar="SECONDS",
                              help=f"kill one submission's grading after this long (default: --time-limit + "
                                   f"{limits.WALL_CLOCK_MARGIN:g}, or {limits.WALL_CLOCK:g} without --time-limit)")
    batch_parser.add_argument("--similarity", action="store_true",
                              help="also compare the submissions (the `similarity` command) and fill the "
                                   "gradebook's similarity and similar_to columns with each one's highest match")
    batch_parser.set_defaults(run=run_batch_command, accepts_extra=True)

    merge_parser = commands.add_parser(
        "merge-gradebooks", help="join the gradebooks of a sharded batch",
        description="Join gradebooks (e.g. gradebook-shard-*-of-4.csv) into one, sorted by submission.")
    merge_parser.add_argument("gradebooks", type=Path, nargs="+", metavar="GRADEBOOK")
    merge_parser.add_argument("-o", "--output", type=Path, default=Path("gradebook.csv"),
                              help="the merged gradebook (default: %(default)s)")
    merge_parser.add_argument("--partial", action="store_true",
                              help="merge even if some shards of the split are missing")
    merge_parser.set_defaults(run=run_merge_command)


def _positive_int(text):
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _shard(text):
    try:
        return Shard.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@dataclass(frozen=True)
class Shard:
    """The ``index``-th (1-based) of ``count`` shares of a class: every count-th submission in name order."""

    index: int
    count: int

    @classmethod
    def parse(cls, text):
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise ValueError(f"{text!r} is not I/N with 1 <= I <= N")
        return cls(int(match[1]), int(match[2]))

    def select(self, items):
        return [item for position, item in enumerate(items) if position % self.count == self.index - 1]

    @property
    def gradebook_name(self):
        return f"gradebook-shard-{self.index}-of-{self.count}.csv"


# --- the submissions ---

@dataclass(frozen=True)
class Submission:
    """One entry of the submissions folder, and the name its row and folder get.

    ``name`` is safe to show and to use as a folder name (see :func:`row_name`);
    ``path`` is the entry as it is on disk, whatever bytes its name holds.
    """

    name: str
    path: Path


def find_submissions(folder, out=None):
    """The submissions in ``folder``, sorted by name (the order shards are cut from).

    Dotfiles, ``__MACOSX`` and the output folder (when it lies inside) are
    not submissions. A ``.zip`` is named without its suffix unless a folder
    already has that name. A name is the entry's, escaped (:func:`row_name`);
    should two entries' names come out the same, the later one gets ``~2``,
    and one that is a gradebook's file name gets ``~``.
    """
    skipped = {Path(out).resolve()} if out is not None else set()
    entries = [path for path in sorted(Path(folder).iterdir())
               if not path.name.startswith(".") and not is_junk([path.name])
               and path.resolve() not in skipped]
    names = {path.name for path in entries}
    submissions, taken = [], set()
    for path in entries:
        stem = path.name[:-len(".zip")] if path.name.lower().endswith(".zip") else path.name
        name = row_name(stem if stem == path.name or stem not in names else path.name)
        if name == GRADEBOOK or SHARD_FILE.fullmatch(name):  # OUT/<name>/ would stand where the gradebook goes
            name += "~"
        unique, count = name, 1
        while unique in taken:
            count += 1
            unique = f"{name}~{count}"
        taken.add(unique)
        submissions.append(Submission(unique, path))
    return sorted(submissions, key=lambda submission: submission.name)


def row_name(entry_name):
    """The name a submission's row and folder get: the entry's, escaped, short enough for any file system.

    A student names the folder or archive: its name may hold bytes that are
    not UTF-8, escape sequences or hundreds of characters. Escaped by
    :func:`~convgrader.untrusted.shown_name`, it can be written to the
    terminal, the gradebook and the file system; one cut to fit
    ``limits.SUBMISSION_NAME_BYTES`` keeps a short hash of the whole, so that
    two long names stay apart.
    """
    name = shown_name(entry_name)
    if len(name.encode("utf-8")) <= limits.SUBMISSION_NAME_BYTES and len(entry_name) <= limits.NAME_CHARACTERS:
        return name
    digest = hashlib.sha256(os.fsencode(entry_name)).hexdigest()[:10]
    while len(name.encode("utf-8")) > limits.SUBMISSION_NAME_BYTES - len(digest) - 1:
        name = name[:-8]
    return f"{name}~{digest}"


def fingerprint(path):
    """A hash of a submission's content: archives keep old timestamps, so a changed one may look older.

    Never raises for what the submission holds (names of any bytes, unreadable
    files, a tree too large to grade): those are hashed as what they are.
    """
    digest = hashlib.sha256()
    if path.is_file():
        files = [(PurePosixPath(), path)]
    else:
        files = []
        try:
            files = [(relative, Path(entry.path)) for relative, entry in walk(path, Limits())
                     if entry.is_file(follow_symlinks=False)]
        except SubmissionRejected as error:
            digest.update(str(error).encode("utf-8", "replace"))
    for relative, file in files:
        digest.update(os.fsencode(relative.as_posix()) + b"\0")
        try:
            with open(file, "rb") as stream:
                for chunk in iter(lambda: stream.read(2 ** 20), b""):
                    digest.update(chunk)
        except OSError as error:
            digest.update(f"unreadable: {error.errno}".encode())
        digest.update(b"\0")
    return digest.hexdigest()


# --- grading one submission in a process of its own ---

def grade_argv(impl, results, *, hidden=False, time_limit=None, lang=None, extra=()):
    """The ``python -m convgrader grade`` command line for one normalized submission."""
    argv = [sys.executable, "-m", "convgrader", "grade", "--impl", str(impl), "--results", str(results),
            "--html", str(Path(results).with_name(REPORT_PAGE))]
    if lang:  # one language for the whole class, whatever each grading process's locale
        argv += ["--lang", lang]
    if hidden:
        argv.append("--hidden")
    if time_limit is not None:
        argv += ["--time-limit", f"{time_limit:g}"]
    return argv + list(extra)


@dataclass
class Grader:
    """Runs grading processes, each killed (with everything it started) after ``wall_clock`` seconds.

    Parameters
    ----------
    argv : callable
        ``argv(impl_folder, results_file)`` -> the command line that grades
        one folder into one results file (:func:`grade_argv` unless a test
        injects another).
    wall_clock : float
        Seconds a grading process may run.
    env : dict
        Its environment.
    reap_orphans : bool
        After each grading, kill every process that was orphaned to this one
        (see :func:`become_subreaper`): what a submission left running in the
        background, in a session of its own, cannot outlive its grading.
    """

    argv: object
    wall_clock: float = limits.WALL_CLOCK
    env: dict = field(default_factory=lambda: dict(os.environ))
    reap_orphans: bool = False
    _running: set = field(default_factory=set, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _stopped: bool = field(default=False, init=False)

    def run(self, impl, results, log):
        """Grade; return the grading process's exit status, or None if it was stopped at the cap.

        When this returns, the grading process and its process group are gone
        (and, with ``reap_orphans``, whatever escaped the group).
        """
        with open(log, "wb") as log_stream, self._lock:
            if self._stopped:
                raise BatchInterrupted("the batch was interrupted")
            process = subprocess.Popen(self.argv(impl, results), cwd=PROJECT, env=self.env,
                                       stdin=subprocess.DEVNULL, stdout=log_stream, stderr=subprocess.STDOUT,
                                       start_new_session=(os.name == "posix"))
            self._running.add(process)
        try:
            status = process.wait(timeout=self.wall_clock)
        except subprocess.TimeoutExpired:
            status = None
        finally:
            _kill_group(process)  # whatever it left behind, too
            with self._lock:
                self._running.discard(process)
                if self.reap_orphans:
                    kill_orphans(keep={p.pid for p in self._running})
        return status

    @property
    def stopped(self):
        return self._stopped

    def stop(self):
        """Kill every grading process and start no more (on Ctrl-C)."""
        with self._lock:
            self._stopped = True
            for process in self._running:
                _kill_group(process)


class BatchInterrupted(Exception):
    """Raised instead of starting a grading process once the batch is being stopped."""


def _kill_group(process):
    if os.name == "posix":
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    elif process.poll() is None:
        process.kill()
    process.wait()


def become_subreaper():
    """Make this process adopt its descendants' orphans (Linux); whether it could.

    A process a submission starts in a session of its own escapes the kill of
    its grading's process group; orphaned, it is re-parented to the nearest
    subreaper instead of init, where :func:`kill_orphans` finds it.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        PR_SET_CHILD_SUBREAPER = 36
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def kill_orphans(keep=()):
    """Kill and reap every child of this process but ``keep`` (the gradings still running)."""
    for _ in range(50):  # killing an orphan orphans its own children: go on until none is left
        children = [pid for pid in _children() if pid not in keep]
        if not children:
            return
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError, PermissionError):
                pass


def _children():
    me = os.getpid()
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == me:
            pids.append(int(stat.parent.name))
    return pids


# --- the harness must not change while a class is graded ---

class HarnessChanged(Exception):
    """Files of the harness changed while a submission was graded; the message names them."""


def harness_roots():
    """What a submission could change to grade the next ones: the harness, its tests, site-packages hooks."""
    roots = [paths.HARNESS, paths.GRADED_TESTS, paths.HIDDEN_TESTS, paths.FIXTURES, PROJECT / "conftest.py"]
    folders = [*site.getsitepackages(), site.getusersitepackages(), *sys.path]
    for folder in dict.fromkeys(Path(f) for f in folders if f):
        if not folder.is_dir():
            continue
        roots += sorted(folder.glob("*.pth"))
        roots += [folder / f"{name}{suffix}" for name in ("sitecustomize", "usercustomize")
                  for suffix in (".py", "")]
        roots += sorted((folder / "__pycache__").glob("*customize*.pyc"))
    return roots


def harness_fingerprint(roots):
    """sha256 of each file under ``roots`` (``__pycache__`` included), by path; a missing root maps to None."""
    found = {}
    for root in map(Path, roots):
        if root.is_dir():
            files = sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())
        else:
            files = [root]
        for file in files:
            try:
                found[str(file)] = hashlib.sha256(file.read_bytes()).hexdigest()
            except FileNotFoundError:
                found[str(file)] = None
            except OSError as error:
                found[str(file)] = f"unreadable: {error.strerror}"
    return {path: digest for path, digest in found.items() if digest is not None or Path(path).is_symlink()}


def fingerprint_changes(before, after):
    """Words for what differs between two :func:`harness_fingerprint` results."""
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(p for p in set(before) & set(after) if before[p] != after[p])
    return ([f"changed {p}" for p in changed] + [f"added {p}" for p in added]
            + [f"removed {p}" for p in removed])


# --- one submission, start to row ---

class SubmissionFolder:
    """``OUT/<name>/``: the normalized sources, results.json, problems.txt, grade.log, source.sha256."""

    def __init__(self, out, name):
        self.root = Path(out) / name
        self.sources = self.root / "submission"
        self.results = self.root / "results.json"
        self.problems = self.root / "problems.txt"
        self.log = self.root / "grade.log"
        self.stamp = self.root / "source.sha256"

    def clear(self):
        # The stamp goes first and comes back last, so a batch killed midway regrades this one.
        for file in (self.stamp, self.results, self.problems, self.log, self.root / REPORT_PAGE):
            file.unlink(missing_ok=True)
        if self.sources.exists():
            shutil.rmtree(self.sources)
        self.root.mkdir(parents=True, exist_ok=True)


def previous_results(submission, folder):
    """The report of an earlier batch if it grades this very submission, else None (a failed grading is redone)."""
    report = read_results_json(folder.results)
    if report is None or report.status == GRADING_FAILED:
        return None
    try:
        recorded = folder.stamp.read_text(encoding="ascii").strip()
    except OSError:
        return None
    return report if recorded == fingerprint(submission.path) else None


def grade_submission(submission, out, grader, level=None):
    """Normalize and grade one submission; write and return its :class:`~convgrader.report.Report` (never raises).

    The grading process writes its results.json into a private folder
    (``mkdtemp``: mode 0700, outside OUT, removed afterwards); it is read only
    after the grading's processes are gone and then written to
    ``OUT/<name>/results.json`` by this process. The submission's code runs in
    the sandbox, either in namespaces with read-only binds or, when the grader
    is root, as ``nobody``: neither can write that folder.
    """
    folder = SubmissionFolder(out, submission.name)
    try:
        folder.clear()
        source_hash = fingerprint(submission.path)
        try:
            problems = normalize(submission.path, folder.sources)
        except SubmissionRejected as error:
            folder.problems.write_text(f"{REJECTED}: {shown(str(error), newlines=False)}\n", encoding="utf-8")
            report = Report.rejected(str(error))
        else:
            if problems:
                folder.problems.write_text("".join(shown(p, newlines=False) + "\n" for p in problems),
                                           encoding="utf-8")
            report = _grade_privately(folder, grader)
            report.notes = problems + [n for n in report.notes if n not in problems]
        report.isolation = report.isolation or level
        write_results_json(report, folder.results)
        folder.stamp.write_text(source_hash + "\n", encoding="ascii")
        return report
    except Exception as error:  # a full disk, a permission, a bug of ours: still one row, not a dead batch
        return Report.failed(f"{type(error).__name__}: {error}", isolation=level)


def _grade_privately(folder, grader):
    private = Path(tempfile.mkdtemp(prefix="convgrader-results-"))
    try:
        exit_status = grader.run(folder.sources, private / "results.json", folder.log)
        found = read_results_json(private / "results.json") if exit_status is not None else None
        if found is not None and (private / REPORT_PAGE).is_file():
            shutil.copyfile(private / REPORT_PAGE, folder.root / REPORT_PAGE)
    finally:
        shutil.rmtree(private, ignore_errors=True)
    if grader.stopped:
        return Report.failed("the batch was interrupted")
    if found is not None and found.status == GRADING_FAILED:
        found.reason = f"{found.reason}; see {folder.log.name}"
        return found
    if found is not None and exit_status in GRADE_RAN:
        return found
    return Report.failed(_why_not_graded(exit_status, grader, folder))


def _why_not_graded(exit_status, grader, folder):
    log = folder.log.name
    if exit_status is None:
        return f"stopped after {grader.wall_clock:g} s (the wall-clock cap); see {log}"
    if exit_status == GRADE_COULD_NOT_RUN:
        return f"the grader could not run (exit {exit_status}); see {log}"
    return f"the grader wrote no valid results.json (exit {exit_status}); see {log}"


# --- the batch ---

@dataclass
class BatchSummary:
    gradebook: Path
    rows: list
    graded_now: int
    skipped: int

    def count(self, status):
        return sum(row["status"].startswith(status) for row in self.rows)


def run_batch(submissions_folder, out, grader, *, jobs=1, shard=None, force=False, progress=True, level=None,
              watch=None):
    """Grade a class; write the gradebook after every submission; return a :class:`BatchSummary`.

    Parameters
    ----------
    submissions_folder, out : pathlib.Path
        Where the submissions are, where everything is written.
    grader : Grader
        Runs the grading processes.
    jobs : int
        Submissions graded at the same time.
    shard : Shard, optional
        Grade only this share of the class.
    force : bool
        Regrade submissions whose results are up to date.
    progress : bool
        Show a progress bar (on stderr).
    level : str, optional
        The isolation level the submissions are graded at, recorded in every report.
    watch : list of pathlib.Path, optional
        Files and folders that must not change while the class is graded (see
        :func:`harness_roots`); they are fingerprinted before the batch and
        after each submission.

    Raises
    ------
    HarnessChanged
        When a fingerprint differs: the batch stops (the gradebook keeps what
        was graded before), and the submission just graded is marked
        ``grading failed``.
    """
    from tqdm import tqdm  # only the batch needs it

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    submissions = find_submissions(submissions_folder, out)
    if shard is not None:
        submissions = shard.select(submissions)
    gradebook = out / (shard.gradebook_name if shard else GRADEBOOK)
    reports = {} if force else {
        submission.name: found for submission in submissions
        if (found := previous_results(submission, SubmissionFolder(out, submission.name))) is not None}
    to_grade = [submission for submission in submissions if submission.name not in reports]
    if reports and progress:
        print(f"skipping {len(reports)} submission(s) unchanged since the last batch (--force regrades them)",
              file=sys.stderr)
    baseline = harness_fingerprint(watch) if watch is not None else None

    def rows():
        return [to_csv_row(reports[s.name], s.name) for s in submissions if s.name in reports]

    write_gradebook(rows(), gradebook)
    with tqdm(total=len(to_grade), desc="grading", unit="submission", disable=not (progress and to_grade)) as bar, \
            ThreadPoolExecutor(max_workers=jobs) as pool:
        grade = partial(grade_submission, out=out, grader=grader, level=level)
        futures = {pool.submit(grade, submission): submission for submission in to_grade}
        try:
            for future in as_completed(futures):
                submission = futures[future]
                reports[submission.name] = future.result()
                if baseline is not None:
                    _check_harness(baseline, watch, submission, out, reports, grader, pool)
                write_gradebook(rows(), gradebook)  # a batch killed now keeps every row so far
                bar.set_postfix_str(shown_name(submission.name), refresh=False)
                bar.update()
        except KeyboardInterrupt:
            grader.stop()
            pool.shutdown(cancel_futures=True)
            raise
        except HarnessChanged:
            write_gradebook(rows(), gradebook)
            raise
    return BatchSummary(gradebook, rows(), graded_now=len(to_grade), skipped=len(submissions) - len(to_grade))


def _check_harness(baseline, watch, submission, out, reports, grader, pool):
    """Stop the batch when the harness changed while ``submission`` (or one graded beside it) ran."""
    changes = fingerprint_changes(baseline, harness_fingerprint(watch))
    if not changes:
        return
    grader.stop()
    pool.shutdown(cancel_futures=True)
    named = limits.HARNESS_CHANGES_NAMED
    listed = "; ".join(changes[:named]) + (f"; and {len(changes) - named} more" if len(changes) > named else "")
    report = Report.failed(f"the harness changed while it was graded ({shown(listed)})",
                           isolation=reports[submission.name].isolation)
    write_results_json(report, SubmissionFolder(out, submission.name).results)
    reports[submission.name] = report
    raise HarnessChanged(f"the harness changed while {submission.name!r} was graded (the batch stopped; restore "
                         f"the harness, e.g. from git or a fresh install, before grading on):\n  "
                         + "\n  ".join(shown_name(change) for change in changes[:limits.HARNESS_CHANGES_LISTED]))


def write_gradebook(rows, path, columns=COLUMNS):
    """Write rows (dicts of text, already escaped) as CSV, atomically: a reader sees the old file or the new one."""
    # utf-8-sig: spreadsheet programs then read the students' Cyrillic names right.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with open(temporary, "w", newline="", encoding="utf-8-sig") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)


def run_batch_command(args, extra):
    if not args.submissions.is_dir():
        print(f"batch: {args.submissions} is not a folder", file=sys.stderr)
        return 2
    try:
        level = isolation.chosen_level()  # what each grading's sandbox will use ($CONVGRADER_ISOLATION or the best)
    except (ValueError, isolation.IsolationUnavailable) as error:
        print(f"batch: {error}", file=sys.stderr)
        return 2
    if level != isolation.NAMESPACES and not args.allow_weak_isolation:
        print("batch: this machine cannot sandbox submissions with Linux namespaces (bubblewrap is missing or "
              "user namespaces are disabled), so a submission would run as a plain process that can reach the "
              "grader's files. Install bubblewrap (apt-get install bubblewrap), or accept the weaker "
              "isolation with --allow-weak-isolation (the harness is then fingerprinted around each "
              "submission).", file=sys.stderr)
        return 2
    try:
        lang = language.choose(args.lang, language.configured_in(PROJECT))
    except ValueError as error:
        print(f"batch: {error}", file=sys.stderr)
        return 2
    language.set_current(lang)  # this process rewrites results.json too (the failures are data, said again)
    extra = extra[1:] if extra[:1] == ["--"] else extra
    wall_clock = args.wall_clock or (args.time_limit or limits.RUN) + limits.WALL_CLOCK_MARGIN
    # No grading process writes bytecode: the harness's __pycache__ then changes only if a submission writes it.
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    if args.jobs > 1:
        # Each grading process gets one core: several numpy processes with a thread per core each only fight.
        for variable in limits.THREAD_VARIABLES:
            env.setdefault(variable, "1")
    grader = Grader(partial(grade_argv, hidden=args.hidden, time_limit=args.time_limit, lang=lang, extra=extra),
                    wall_clock=wall_clock, env=env, reap_orphans=become_subreaper())
    print(f"isolation: {level}; language of the reports: {lang}", file=sys.stderr)
    started = time.monotonic()
    try:
        summary = run_batch(args.submissions, args.out, grader, jobs=args.jobs, shard=args.shard,
                            force=args.force, level=level,
                            watch=harness_roots() if level != isolation.NAMESPACES else None)
    except KeyboardInterrupt:
        print("\nbatch interrupted; run it again to go on where it stopped", file=sys.stderr)
        return 130
    except HarnessChanged as error:
        print(f"batch: {error}", file=sys.stderr)
        return HARNESS_CHANGED_STATUS
    elapsed = time.monotonic() - started
    print(f"{len(summary.rows)} submission(s): {summary.count(GRADED)} graded, {summary.count(REJECTED)} rejected, "
          f"{summary.count(GRADING_FAILED)} grading failed; {summary.skipped} skipped (unchanged since the last batch); "
          f"{summary.graded_now} processed in {elapsed:.0f} s")
    print(f"gradebook: {summary.gradebook}")
    if args.similarity:  # its own process, as grading is: the command reads the submissions anew
        subprocess.run([sys.executable, "-m", "convgrader", "similarity", str(args.submissions), "--out",
                        str(args.out), "--gradebook", str(summary.gradebook)], cwd=PROJECT, check=False)
    # A failed grading is the harness's problem, not the student's: let CI see it.
    return 1 if summary.count(GRADING_FAILED) else 0


# --- merging shards ---

class MergeError(Exception):
    """Gradebooks that cannot be merged; the message says why."""


def merge_gradebooks(paths, allow_missing=False):
    """Join gradebooks into one list of rows sorted by submission.

    Raises
    ------
    MergeError
        When their columns differ, one submission has different rows in two of
        them, or (unless ``allow_missing``) shards of the split are missing.
    """
    if not allow_missing:
        _check_all_shards(paths)
    columns, rows, origin = None, {}, {}
    for path in paths:
        with open(path, newline="", encoding="utf-8-sig") as stream:
            reader = csv.DictReader(stream)
            if columns is None:
                columns = reader.fieldnames
            elif reader.fieldnames != columns:
                raise MergeError(f"{path} has other columns than {paths[0]}")
            for row in reader:
                name = row["submission"]
                if name in rows and rows[name] != row:
                    raise MergeError(f"submission {name!r} has different results in {origin[name]} and {path}")
                rows[name], origin[name] = row, path
    return columns, [rows[name] for name in sorted(rows)]


def _check_all_shards(paths):
    splits = {}
    for path in paths:
        match = SHARD_FILE.search(Path(path).name)
        if match:
            splits.setdefault(int(match[2]), set()).add(int(match[1]))
    if len(splits) > 1:
        raise MergeError(f"the gradebooks come from different splits ({', '.join(f'of {n}' for n in sorted(splits))})")
    for count, present in splits.items():
        missing = sorted(set(range(1, count + 1)) - present)
        if missing:
            raise MergeError(f"shard(s) {', '.join(map(str, missing))} of {count} missing "
                             "(--partial merges the others anyway)")


def run_merge_command(args, extra):
    try:
        columns, rows = merge_gradebooks(args.gradebooks, allow_missing=args.partial)
    except (MergeError, OSError, KeyError) as error:
        print(f"merge-gradebooks: {error}", file=sys.stderr)
        return 2
    write_gradebook(rows, args.output, columns)
    print(f"{len(rows)} submission(s) from {len(args.gradebooks)} gradebook(s) -> {args.output}")
    return 0
