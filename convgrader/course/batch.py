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
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from convgrader.assignment import PARTS
from convgrader.course.submissions import SubmissionRejected, is_junk, normalize
from convgrader.paths import PROJECT

COLUMNS = ("submission", "status", "total", "max_total", *PARTS, "bonus")
GRADED = "graded"
REJECTED = "rejected"
GRADING_FAILED = "grading failed"
#: The page ``grade --html`` writes next to each results.json (points, pictures of failed comparisons).
REPORT_PAGE = "report.html"
# `grade` exits 0 when it graded (1 with --fail-under and a low score) and 2 when it could not.
GRADE_RAN = (0, 1)
GRADE_COULD_NOT_RUN = 2
#: Seconds one submission's grading may take, whatever it does, unless --wall-clock says otherwise:
#: `grade` bounds itself (1200 s unless --time-limit), the cap only catches a grader that does not.
DEFAULT_WALL_CLOCK = 1800
WALL_CLOCK_MARGIN = 120
# Each grading process gets one core: several numpy processes with a thread per core each only fight.
SINGLE_THREADED = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
SHARD_FILE = re.compile(r"gradebook-shard-(\d+)-of-(\d+)\.csv$")


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
    batch_parser.add_argument("--hidden", action="store_true", help="also run the hidden tests")
    batch_parser.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                              help="passed on to `grade` (its bound on one submission's run)")
    batch_parser.add_argument("--wall-clock", type=float, default=None, metavar="SECONDS",
                              help=f"kill one submission's grading after this long (default: --time-limit + "
                                   f"{WALL_CLOCK_MARGIN}, or {DEFAULT_WALL_CLOCK} without --time-limit)")
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
    """One entry of the submissions folder, and the name its row and folder get."""

    name: str
    path: Path


def find_submissions(folder, out=None):
    """The submissions in ``folder``, sorted by name (the order shards are cut from).

    Dotfiles, ``__MACOSX`` and the output folder (when it lies inside) are
    not submissions. A ``.zip`` is named without its suffix unless a folder
    already has that name.
    """
    skipped = {Path(out).resolve()} if out is not None else set()
    entries = [path for path in sorted(Path(folder).iterdir())
               if not path.name.startswith(".") and not is_junk([path.name])
               and path.resolve() not in skipped]
    names = {path.name for path in entries}
    submissions = []
    for path in entries:
        stem = path.name[:-len(".zip")] if path.name.lower().endswith(".zip") else path.name
        name = stem if stem == path.name or stem not in names else path.name
        submissions.append(Submission(name, path))
    return sorted(submissions, key=lambda submission: submission.name)


def fingerprint(path):
    """A hash of a submission's content: archives keep old timestamps, so a changed one may look older."""
    digest = hashlib.sha256()
    if path.is_file():
        files = [path]
    else:
        files = sorted(file for file in path.rglob("*") if file.is_file() and not file.is_symlink()
                       and not is_junk(file.relative_to(path).parts))
    for file in files:
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with open(file, "rb") as stream:
            for chunk in iter(lambda: stream.read(2 ** 20), b""):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


# --- grading one submission in a process of its own ---

def grade_argv(impl, results, *, hidden=False, time_limit=None, extra=()):
    """The ``python -m convgrader grade`` command line for one normalized submission."""
    argv = [sys.executable, "-m", "convgrader", "grade", "--impl", str(impl), "--results", str(results),
            "--html", str(Path(results).with_name(REPORT_PAGE))]
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
    """

    argv: object
    wall_clock: float = DEFAULT_WALL_CLOCK
    env: dict = field(default_factory=lambda: dict(os.environ))
    _running: set = field(default_factory=set, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _stopped: bool = field(default=False, init=False)

    def run(self, impl, results, log):
        """Grade; return the grading process's exit status, or None if it was stopped at the cap."""
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

    def read_results(self):
        try:
            results = json.loads(self.results.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return results if isinstance(results, dict) and "score" in results else None

    def write_stand_in_results(self, status, problems=()):
        """A results.json for a submission that was not graded: score 0 and the reason."""
        output = "\n".join([f"Not graded: {status}.", *problems])
        results = {"score": 0.0, "execution_time": 0.0, "output": output, "tests": [],
                   "extra_data": {"batch_status": status, "parts": {}, "bonus_parts": []}}
        self.results.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return results


def previous_results(submission, folder):
    """The results of an earlier batch if they grade this very submission, else None."""
    results = folder.read_results()
    if results is None or status_of(results).startswith(GRADING_FAILED):
        return None
    try:
        recorded = folder.stamp.read_text(encoding="ascii").strip()
    except OSError:
        return None
    return results if recorded == fingerprint(submission.path) else None


def grade_submission(submission, out, grader):
    """Normalize and grade one submission; return its results (never raises)."""
    folder = SubmissionFolder(out, submission.name)
    try:
        folder.clear()
        source_hash = fingerprint(submission.path)
        try:
            problems = normalize(submission.path, folder.sources)
        except SubmissionRejected as error:
            status = f"{REJECTED}: {error}"
            folder.problems.write_text(status + "\n", encoding="utf-8")
            results = folder.write_stand_in_results(status)
        else:
            if problems:
                folder.problems.write_text("\n".join(problems) + "\n", encoding="utf-8")
            exit_status = grader.run(folder.sources, folder.results, folder.log)
            results = folder.read_results() if exit_status in GRADE_RAN else None
            if results is None:
                status = f"{GRADING_FAILED}: {_why_not_graded(exit_status, grader, folder)}"
                results = folder.write_stand_in_results(status, problems)
        folder.stamp.write_text(source_hash + "\n", encoding="ascii")
        return results
    except Exception as error:  # a full disk, a permission, a bug of ours: still one row, not a dead batch
        status = f"{GRADING_FAILED}: {type(error).__name__}: {error}"
        return {"score": 0.0, "extra_data": {"batch_status": status}}


def _why_not_graded(exit_status, grader, folder):
    log = folder.log.name
    if grader.stopped:
        return "the batch was interrupted"
    if exit_status is None:
        return f"stopped after {grader.wall_clock:g} s (the wall-clock cap); see {log}"
    if exit_status == GRADE_COULD_NOT_RUN:
        return f"the grader could not run (exit {exit_status}); see {log}"
    return f"the grader wrote no valid results.json (exit {exit_status}); see {log}"


def status_of(results):
    """``graded`` (saying so when the grader caught tampering), or why the submission was not graded."""
    extra = results.get("extra_data") or {}
    if "batch_status" in extra:
        return extra["batch_status"]
    tampering = extra.get("tampering") or []
    return f"{GRADED}: tampering detected ({'; '.join(map(str, tampering))})" if tampering else GRADED


def gradebook_row(name, results):
    """The gradebook row (a dict keyed by :data:`COLUMNS`) of one submission's results."""
    extra = results.get("extra_data") or {}
    parts = extra.get("parts") or {}
    bonus_parts = set(extra.get("bonus_parts") or ())
    row = {"submission": name, "status": status_of(results),
           "total": _number(results.get("score", 0)), "max_total": _number(results.get("max_score"))}
    for part in PARTS:
        row[part] = _number((parts.get(part) or {}).get("score"))
    bonus = sum(float((parts.get(part) or {}).get("score") or 0) for part in bonus_parts)
    row["bonus"] = _number(bonus) if parts else ""
    return row


def _number(value):
    if value is None or value == "":
        return ""
    return f"{round(float(value), 6):.10g}"


# --- the batch ---

@dataclass
class BatchSummary:
    gradebook: Path
    rows: list
    graded_now: int
    skipped: int

    def count(self, status):
        return sum(row["status"].startswith(status) for row in self.rows)


def run_batch(submissions_folder, out, grader, *, jobs=1, shard=None, force=False, progress=True):
    """Grade a class; write the gradebook; return a :class:`BatchSummary`.

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
    """
    from tqdm import tqdm  # only the batch needs it

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    submissions = find_submissions(submissions_folder, out)
    if shard is not None:
        submissions = shard.select(submissions)
    results = {} if force else {
        submission.name: found for submission in submissions
        if (found := previous_results(submission, SubmissionFolder(out, submission.name))) is not None}
    to_grade = [submission for submission in submissions if submission.name not in results]
    if results and progress:
        print(f"skipping {len(results)} submission(s) unchanged since the last batch (--force regrades them)",
              file=sys.stderr)
    with tqdm(total=len(to_grade), desc="grading", unit="submission", disable=not (progress and to_grade)) as bar, \
            ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(grade_submission, submission, out, grader): submission for submission in to_grade}
        try:
            for future in as_completed(futures):
                name = futures[future].name
                results[name] = future.result()
                bar.set_postfix_str(name, refresh=False)
                bar.update()
        except KeyboardInterrupt:
            grader.stop()
            pool.shutdown(cancel_futures=True)
            raise
    rows = [gradebook_row(submission.name, results[submission.name]) for submission in submissions]
    gradebook = out / (shard.gradebook_name if shard else "gradebook.csv")
    write_gradebook(rows, gradebook)
    return BatchSummary(gradebook, rows, graded_now=len(to_grade), skipped=len(submissions) - len(to_grade))


def write_gradebook(rows, path, columns=COLUMNS):
    # utf-8-sig: spreadsheet programs then read the students' Cyrillic names right.
    temporary = path.with_name(path.name + ".partial")
    with open(temporary, "w", newline="", encoding="utf-8-sig") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, path)


def run_batch_command(args, extra):
    if not args.submissions.is_dir():
        print(f"batch: {args.submissions} is not a folder", file=sys.stderr)
        return 2
    extra = extra[1:] if extra[:1] == ["--"] else extra
    wall_clock = args.wall_clock or (args.time_limit + WALL_CLOCK_MARGIN if args.time_limit else DEFAULT_WALL_CLOCK)
    env = dict(os.environ)
    if args.jobs > 1:
        for variable in SINGLE_THREADED:
            env.setdefault(variable, "1")
    grader = Grader(partial(grade_argv, hidden=args.hidden, time_limit=args.time_limit, extra=extra),
                    wall_clock=wall_clock, env=env)
    started = time.monotonic()
    try:
        summary = run_batch(args.submissions, args.out, grader, jobs=args.jobs, shard=args.shard,
                            force=args.force)
    except KeyboardInterrupt:
        print("\nbatch interrupted; run it again to go on where it stopped", file=sys.stderr)
        return 130
    elapsed = time.monotonic() - started
    print(f"{len(summary.rows)} submission(s): {summary.count(GRADED)} graded, {summary.count(REJECTED)} rejected, "
          f"{summary.count(GRADING_FAILED)} grading failed; {summary.skipped} skipped (unchanged since the last batch); "
          f"{summary.graded_now} processed in {elapsed:.0f} s")
    print(f"gradebook: {summary.gradebook}")
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
