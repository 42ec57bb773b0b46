"""The ``grade`` command: grade one submission into a complete, trustworthy report.

``python -m convgrader grade --impl PATH --results results.json`` runs the
graded suite in a pytest process that never imports the submission (its code
runs in :mod:`convgrader.running.sandbox`), reads the verdicts it streams, and writes

- ``--results``: Gradescope's results.json (score, tests with points, output),
  plus what a regrade needs (versions, seeds, a hash of the fixtures);
- ``--junit``: JUnit XML; ``--markdown``: a summary for a CI job page (also
  appended to ``$GITHUB_STEP_SUMMARY`` when set);
- a table of parts on the terminal.

If the pytest process dies or overruns, the tests it did not finish are
reported as such and the rest is graded again: the report is always complete.
The exit status says whether grading ran (0) or not (2); with
``--fail-under SCORE`` it is 1 when the score is lower.
"""

import hashlib
import json
import os
import platform
import resource
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from convgrader import __version__, language, limits
from convgrader.assignment import OPTIONAL_PARTS, PARTS
from convgrader.judging import classroom, html_report, options, outcomes, points
from convgrader.paths import FIXTURES, GRADED_TESTS, HIDDEN_TESTS, PROJECT
from convgrader.report import (FAILED, GRADED, GRADING_FAILED, SKIPPED, VISIBILITY, PartTotal, Report, Verdict,
                               to_junit, to_markdown, to_text, write_results_json)
from convgrader.running import implementation, isolation
from convgrader.untrusted import shown

#: pytest plugins of this environment that grading never uses, left unloaded: nbval's import alone
#: (nbformat's schemas) costs more CPU than a third of the graded suite.
UNUSED_PLUGINS = ("nbval", "benchmark", "anyio")

#: pytest exit statuses that mean the harness failed, not the submission (which
#: runs in the sandbox and can at worst kill pytest, a negative status).
HARNESS_FAILURES = {3: "internal error", 4: "usage error"}


def register(commands):
    parser = commands.add_parser("grade", help="grade one submission into results.json, JUnit XML and Markdown",
                                 description=__doc__.split("\n\n")[0])
    options.add(parser.add_argument, "impl", default="student_impl")
    parser.add_argument("--results", type=Path, help="write Gradescope's results.json here")
    parser.add_argument("--junit", type=Path, help="write JUnit XML here")
    parser.add_argument("--markdown", type=Path, help="write a Markdown summary here")
    parser.add_argument("--html", type=Path, help="write one self-contained HTML page here: points per part, "
                                                  "pictures of each failed comparison")
    parser.add_argument("--classroom", type=Path, metavar="FILE",
                        help="write GitHub Classroom's runner result here (JSON: one entry per part; "
                             "see convgrader/judging/classroom.py)")
    options.add(parser.add_argument, "hidden")
    options.add(parser.add_argument, "hidden_seed")
    parser.add_argument("--hidden-visibility", choices=VISIBILITY, default="after_published",
                        help="visibility of hidden tests in results.json (default after_published)")
    parser.add_argument("--time-limit", type=float, default=limits.RUN, metavar="SECONDS",
                        help=f"wall-clock bound of the whole run (default {limits.RUN:g})")
    options.add(parser.add_argument, "call_timeout")
    parser.add_argument("--fail-under", type=float, metavar="SCORE",
                        help="exit with status 1 when the score is below SCORE")
    options.add(parser.add_argument, "lang")
    parser.add_argument("--no-isolate", dest="isolate", action="store_false",
                        help="import the submission into the test process (faster, for trusted code only)")
    parser.set_defaults(run=run, accepts_extra=True)


def run(args, pytest_args):
    try:
        implementation.locate(args.impl)
    except ValueError as error:
        print(f"grade: {error}", file=sys.stderr)
        return 2
    try:
        args.lang = language.choose(args.lang, language.configured_in(PROJECT))
    except ValueError as error:
        print(f"grade: {error}", file=sys.stderr)
        return 2
    language.set_current(args.lang)
    report = grade(args, pytest_args)
    write_outputs(args, report)
    if args.html:
        html_report.write(args.html, report)
    if args.classroom:
        classroom.write(args.classroom, report)
    print(to_text(report))
    if report.status != GRADED:
        print(f"grade: {shown(report.label)}; this report is not a grade", file=sys.stderr)
        return 2
    if args.fail_under is not None and report.score < args.fail_under:
        return 1
    return 0


def grade(args, pytest_args):
    """Grade ``args.impl`` into a :class:`~convgrader.report.Report`; never raises.

    Whatever stops the harness (collection failing twice, pytest's own error
    twice, a sandbox that cannot start twice, the time limit) gives a report of
    status ``grading failed`` with the reason, never a graded 0.
    """
    started = time.time()
    deadline = started + args.time_limit
    details = {}
    try:
        fixtures_before = fixtures_digest()
        details = run_details(args, fixtures_before)
        suite = [str(GRADED_TESTS)] + ([str(HIDDEN_TESTS), "--hidden", f"--hidden-seed={args.hidden_seed}"]
                                       if args.hidden else [])
        unused = [f"-pno:{name}" for name in UNUSED_PLUGINS]
        common = suite + [f"--impl={args.impl}", f"--lang={args.lang}", "-p", "no:cacheprovider", *unused,
                          *pytest_args]
        sandboxing = ["--isolate", f"--deadline={deadline}", f"--call-timeout={args.call_timeout}"]
        collected, verdicts, problems, failure = run_tests(common + (sandboxing if args.isolate else []), None,
                                                           deadline)
        if collected is None:
            return Report.failed(f"the test suite could not be collected ({failure})",
                                 timings=_timings(started), **details)
        tampering = [event for v in verdicts.values() for event in v.tamper] + problems
        if fixtures_digest() != fixtures_before:
            tampering.append("the fixture files changed during grading")
        if failure:  # what was seen of tampering is kept, for whoever looks into the failure
            return Report.failed(failure, tampering=sorted(set(tampering)), timings=_timings(started), **details)
        return build_report(args, collected, verdicts, sorted(set(tampering)), _timings(started), details)
    except Exception as error:  # a bug of ours must not read as the student's grade
        return Report.failed(f"the grader failed ({type(error).__name__}: {error})", timings=_timings(started),
                             **details)


def _timings(started):
    """Wall seconds since ``started``, and CPU seconds of this process and every process it waited for.

    The CPU time covers pytest and the sandboxes' workers below it, so it is
    what grading cost whatever the machine's load; the wall time is not.
    """
    wall = round(time.time() - started, 1)
    cpu = sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
              for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return {"execution_time": wall, "wall_time": wall, "cpu_time": round(cpu, 1)}


# -- running pytest ---------------------------------------------------------------------------------

def pytest_command(arguments):
    return [sys.executable, "-m", "pytest", *arguments]


def read_manifest(manifest):
    """What collection told of each test the run will execute (a Verdict to be), by node id, in order."""
    lines = manifest.read_text(encoding="utf-8").splitlines() if manifest.exists() else []
    return {entry["nodeid"]: entry for entry in map(json.loads, lines)}


def run_tests(arguments, collected, deadline):
    """Run the suite; return what was collected, verdicts by node id, problems of the outcome log, and why
    grading failed.

    With ``collected`` None, the first pytest process also writes what it
    collects (one start-up, not a collection pass and a run); collection that
    fails is tried once more, and ``collected`` comes back None with the reason.
    A pytest process that dies is replaced: the replacement skips the tests
    already done and charges the test that was running to the submission (it
    killed its grader), so every round makes progress. The harness's own
    failures are retried once and then fail the grading, never the student:
    pytest's internal or usage error, a test whose sandbox could not start or
    whose machine was too busy (outcome ``grading failed``), the run's time limit.
    """
    verdicts, problems, failure = {}, [], None
    retried, harness_errors, collections = set(), 0, 0
    key = secrets.token_bytes(32)
    with tempfile.TemporaryDirectory(prefix="convgrader-") as scratch:
        log, manifest = Path(scratch) / "outcomes.jsonl", Path(scratch) / "collected.jsonl"
        while collected is None or any(n not in verdicts for n in collected):
            if time.time() >= deadline + limits.RUN_GRACE:
                failure = f"the grading run reached its time limit with {_unfinished(collected or {}, verdicts)}"
                break
            log.unlink(missing_ok=True)
            if collected is None:
                rest = [f"--collect-manifest={manifest}"]
            else:
                rest = [f"--deselect={n}" for n in collected if n in verdicts]
            status = run_pytest(arguments + rest + [f"--outcomes={log}", "-q"], key,
                                max(deadline - time.time(), 0) + limits.RUN_GRACE)
            if collected is None:
                collected = read_manifest(manifest) or None
                if collected is None:
                    collections += 1
                    failure = ("no test matched" if status == 5 else "pytest took too long to collect the tests"
                               if status == "timeout" else f"pytest exit status {status}")
                    if collections > 1 or status == 5:
                        return None, {}, problems, failure
                    failure = None
                    continue  # once more: a loaded machine may have broken it
            found, new_problems = outcomes.read(log, key)
            problems += new_problems
            verdicts.update(found)
            retry = [n for n, v in found.items() if v.outcome == GRADING_FAILED and n not in retried]
            for nodeid in retry:  # once more, in the next round
                retried.add(nodeid)
                del verdicts[nodeid]
            if status in HARNESS_FAILURES:
                harness_errors += 1
                if harness_errors > 1:
                    failure = f"pytest failed twice ({HARNESS_FAILURES[status]}, exit status {status})"
                    break
                continue
            if status == "timeout":
                failure = f"the grading run reached its time limit with {_unfinished(collected, verdicts)}"
                break
            unfinished = [n for n in collected if n not in verdicts]
            if not unfinished or retry:
                continue
            if status in (0, 1, 5):  # pytest ended normally yet skipped tests it had collected
                failure = f"pytest ended with {_unfinished(collected, verdicts)}"
                break
            verdicts[unfinished[0]] = lost(collected[unfinished[0]], f"the grading process was ended (status {status}) "
                                                          "while this test ran")
    infrastructure = [v for v in verdicts.values() if v.outcome == GRADING_FAILED]
    if failure is None and infrastructure:
        first = (infrastructure[0].message.strip().splitlines() or ["no message"])[0]
        failure = f"{len(infrastructure)} test(s) could not run twice: {first}"
    return collected, verdicts, problems, failure


def _unfinished(collected, verdicts):
    left = sum(n not in verdicts for n in collected)
    return f"{left} of {len(collected)} tests not run"


def run_pytest(arguments, key, timeout):
    """One pytest process, handed the signing key through a pipe; its exit status or "timeout"."""
    read_end, write_end = os.pipe()
    os.write(write_end, key)
    os.close(write_end)
    try:
        return subprocess.run(pytest_command(arguments + [f"--outcomes-key-fd={read_end}"]), cwd=PROJECT,
                              pass_fds=[read_end], timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        return "timeout"
    finally:
        os.close(read_end)


def lost(collected, reason):
    """The verdict of a test that never finished (as collection described it): failed, with the reason."""
    return Verdict(**collected, outcome=FAILED, message=reason)


# -- the report -------------------------------------------------------------------------------------

def fixtures_digest():
    """sha256 over every fixture file's path and bytes, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(FIXTURES.rglob("*.npz")):
        digest.update(str(path.relative_to(FIXTURES)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def run_details(args, fixtures_sha256):
    """What a regrade needs to know about this run, as :class:`~convgrader.report.Report` fields."""
    return {
        "isolation": isolation.chosen_level() if args.isolate else "none",
        "harness_version": __version__,
        "impl": implementation.label_of(args.impl),
        "environment": {"python": platform.python_version(), "numpy": numpy_version(),
                        "platform": platform.platform()},
        "seeds": {"hidden_seed": args.hidden_seed if args.hidden else None,
                  "fixtures": "fixed in convgrader/course/generate_fixtures.py"},
        "fixtures_sha256": fixtures_sha256,
        "command": shlex.join(sys.argv),
        "graded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def build_report(args, collected, verdicts, tampering, timings, details):
    """Score the verdicts: each part's points shared by its tests, a visible test only when its hidden twin
    passed too (with ``--hidden``), nothing with tampering."""
    entries = [verdicts[n] for n in collected]
    points.withhold_unconfirmed(entries)
    graded = [v for v in entries if v.outcome != SKIPPED or v.scored]
    maxima = points.share_out([{"part": v.part, "weight": v.weight, "scored": v.scored} for v in graded])
    parts = {p: PartTotal(max_score=float(points.part_points(p))) for p in PARTS}
    report = Report(status=GRADED, tests=graded, tampering=tampering, parts=parts,
                    bonus_parts=list(OPTIONAL_PARTS), timings=timings,
                    not_run=[v.name for v in entries if v not in graded], **details)
    for verdict, max_score in zip(graded, maxima):
        verdict.max_score = max_score
        verdict.score = max_score if report.credited(verdict) else 0.0
        verdict.visibility = args.hidden_visibility if verdict.hidden else "visible"
        if verdict.part:
            part = parts[verdict.part]
            part.score += verdict.score
            part.total += 1
            part.passed += report.credited(verdict)
    used = sorted({verdict.isolation for verdict in entries if verdict.isolation})
    if used:  # what the sandboxes really ran at, over what was chosen up front
        report.isolation = ", ".join(used)
    report.score = sum(part.score for part in parts.values())
    report.max_score = float(sum(points.part_points(p) for p in PARTS if p not in OPTIONAL_PARTS))
    return report


def numpy_version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("numpy")
    except PackageNotFoundError:
        return None


def write_outputs(args, report):
    """Each requested format, from the one report; the Markdown also to ``$GITHUB_STEP_SUMMARY``."""
    if args.results:
        write_results_json(report, args.results)
    if args.junit:
        args.junit.parent.mkdir(parents=True, exist_ok=True)
        args.junit.write_text(to_junit(report), encoding="utf-8")
    markdown = to_markdown(report)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown, encoding="utf-8")
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary:
            summary.write(markdown + "\n")
