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
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from convgrader import __version__
from convgrader.judging import html_report, outcomes, points
from convgrader.running import implementation
from convgrader.assignment import OPTIONAL_PARTS, PARTS, part_of
from convgrader.judging.plugin import HIDDEN_SEED, PROJECT
from convgrader.running.sandbox import CALL_TIMEOUT

GRADED_TESTS = PROJECT / "tests" / "graded"
HIDDEN_TESTS = PROJECT / "tests" / "hidden"
FIXTURES = PROJECT / "fixtures"
#: Seconds the whole run may take by default; calls stop starting after it.
TIME_LIMIT = 1200
#: Seconds given to pytest past the time limit to finish its report.
GRACE = 60
OUTPUT_CAP = 1500
#: pytest exit statuses that mean the harness failed, not the submission (which
#: runs in the sandbox and can at worst kill pytest, a negative status).
HARNESS_FAILURES = {3: "internal error", 4: "usage error"}
VISIBILITY = ("hidden", "after_due_date", "after_published", "visible")


def register(commands):
    parser = commands.add_parser("grade", help="grade one submission into results.json, JUnit XML and Markdown",
                                 description=__doc__.split("\n\n")[0])
    parser.add_argument("--impl", default="student_impl",
                        help="student_impl (default), reference, or a folder laid out like student_impl/")
    parser.add_argument("--results", type=Path, help="write Gradescope's results.json here")
    parser.add_argument("--junit", type=Path, help="write JUnit XML here")
    parser.add_argument("--markdown", type=Path, help="write a Markdown summary here")
    parser.add_argument("--html", type=Path, help="write one self-contained HTML page here: points per part, "
                                                  "pictures of each failed comparison")
    parser.add_argument("--hidden", action="store_true", help="also run the hidden tests (tests/hidden)")
    parser.add_argument("--hidden-seed", type=int, default=HIDDEN_SEED)
    parser.add_argument("--hidden-visibility", choices=VISIBILITY, default="after_published",
                        help="visibility of hidden tests in results.json (default after_published)")
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT, metavar="SECONDS",
                        help=f"wall-clock bound of the whole run (default {TIME_LIMIT})")
    parser.add_argument("--call-timeout", type=float, default=CALL_TIMEOUT, metavar="SECONDS",
                        help=f"seconds one call of the submission may take (default {CALL_TIMEOUT:g})")
    parser.add_argument("--fail-under", type=float, metavar="SCORE",
                        help="exit with status 1 when the score is below SCORE")
    parser.add_argument("--no-isolate", dest="isolate", action="store_false",
                        help="import the submission into the test process (faster, for trusted code only)")
    parser.set_defaults(run=run, accepts_extra=True)


def run(args, pytest_args):
    try:
        implementation.locate(args.impl)
    except ValueError as error:
        print(f"grade: {error}", file=sys.stderr)
        return 2
    started = time.time()
    deadline = started + args.time_limit
    fixtures_before = fixtures_digest()
    suite = [str(GRADED_TESTS)] + ([str(HIDDEN_TESTS), "--hidden", f"--hidden-seed={args.hidden_seed}"]
                                   if args.hidden else [])
    common = suite + [f"--impl={args.impl}", "-p", "no:cacheprovider", *pytest_args]
    collected = collect(common)
    if collected is None:
        return 2
    isolation = ["--isolate", f"--deadline={deadline}", f"--call-timeout={args.call_timeout}"]
    verdicts, problems, broken = run_tests(common + (isolation if args.isolate else []), collected, deadline)
    tampering = [e for v in verdicts.values() for e in v.get("tamper", [])] + problems
    if fixtures_digest() != fixtures_before:
        tampering.append("the fixture files changed during grading")
    report = build_report(args, collected, verdicts, sorted(set(tampering)), time.time() - started,
                          fixtures_before)
    write_outputs(args, report)
    if args.html:
        html_report.write(args.html, report, verdicts)
    print(terminal_table(report))
    if broken:
        print(f"grade: the harness itself failed ({broken}); this report is not a grade", file=sys.stderr)
        return 2
    if args.fail_under is not None and report["score"] < args.fail_under:
        return 1
    return 0


# -- running pytest ---------------------------------------------------------------------------------

def pytest_command(arguments):
    return [sys.executable, "-m", "pytest", *arguments]


def collect(arguments):
    """The node ids the run will execute, in order; None (and a message) when collection fails."""
    run = subprocess.run(pytest_command(arguments + ["--collect-only", "-q"]), cwd=PROJECT,
                         capture_output=True, text=True, timeout=600)
    ids = [line.strip() for line in run.stdout.splitlines() if "::" in line and not line.startswith(" ")]
    if run.returncode not in (0, 5) or not ids:
        print(f"grade: the test suite could not be collected (pytest exit {run.returncode}):\n"
              f"{run.stdout[-3000:]}{run.stderr[-3000:]}", file=sys.stderr)
        return None
    return ids


def run_tests(arguments, collected, deadline):
    """Run the suite, replacing a pytest process that dies; return verdicts by node id and problems.

    Each replacement skips the tests already done and charges the test that was
    running to the submission, so every round makes progress.
    """
    verdicts, problems, broken = {}, [], None
    key = secrets.token_bytes(32)
    with tempfile.TemporaryDirectory(prefix="convgrader-") as scratch:
        log = Path(scratch) / "outcomes.jsonl"
        while any(n not in verdicts for n in collected) and time.time() < deadline + GRACE:
            deselect = [f"--deselect={n}" for n in collected if n in verdicts]
            status = run_pytest(arguments + deselect + [f"--outcomes={log}", "-q"], key,
                                max(deadline - time.time(), 0) + GRACE)
            found, problems = outcomes.read(log, key)
            verdicts.update(found)
            if status in HARNESS_FAILURES:
                broken = f"pytest exit status {status}: {HARNESS_FAILURES[status]}"
            unfinished = [n for n in collected if n not in verdicts]
            if not unfinished or status in (0, 1, 5):
                break
            reason = ("the grading run reached its time limit" if status == "timeout" or time.time() > deadline
                      else f"the grading process was ended (status {status}) while this test ran")
            verdicts[unfinished[0]] = lost(unfinished[0], reason)
    for nodeid in collected:
        verdicts.setdefault(nodeid, lost(nodeid, "not run: the grading run ended before this test"))
    return verdicts, problems, broken


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


def lost(nodeid, reason):
    name = nodeid.split("::")[-1]
    return {"nodeid": nodeid, "name": name, "part": part_of(name.split("[")[0]), "outcome": "failed",
            "message": reason, "hidden": "tests/hidden/" in nodeid, "duration": 0.0}


# -- the report -------------------------------------------------------------------------------------

def fixtures_digest():
    """sha256 over every fixture file's path and bytes, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(FIXTURES.rglob("*.npz")):
        digest.update(str(path.relative_to(FIXTURES)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_report(args, collected, verdicts, tampering, elapsed, fixtures_sha256):
    entries = [verdicts[n] for n in collected]
    graded = [e for e in entries if e["outcome"] != "skipped" or points.is_scored(e["name"])]
    maxima = points.share_out(graded)
    tests, parts = [], {p: {"score": 0.0, "max_score": float(points.part_points(p)), "passed": 0, "total": 0}
                        for p in PARTS}
    for number, (entry, max_score) in enumerate(zip(graded, maxima), start=1):
        passed = entry["outcome"] == "passed" and not tampering
        score = max_score if passed else 0.0
        tests.append({
            "name": entry["name"], "number": str(number), "score": round(score, 4),
            "max_score": round(max_score, 4), "status": "passed" if passed else "failed",
            "output": test_output(entry), "output_format": "text",
            "visibility": args.hidden_visibility if entry.get("hidden") else "visible",
            "tags": [entry["part"]] if entry["part"] else [],
            "extra_data": {"nodeid": entry["nodeid"], "outcome": entry["outcome"],
                           "duration": round(entry.get("duration", 0.0), 3)},
        })
        if entry["part"]:
            part = parts[entry["part"]]
            part["score"] += score
            part["total"] += 1
            part["passed"] += passed
    skipped = [e for e in entries if e not in graded]
    required = [p for p in PARTS if p not in OPTIONAL_PARTS]
    score = sum(parts[p]["score"] for p in PARTS)
    output = overall_output(tampering, skipped)
    return {
        "score": round(score, 2),
        "max_score": float(sum(points.part_points(p) for p in required)),
        "execution_time": round(elapsed, 1),
        "output": output, "output_format": "text",
        "visibility": "visible", "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "parts": {p: {k: round(v, 4) if isinstance(v, float) else v for k, v in parts[p].items()}
                      for p in PARTS},
            "bonus_parts": list(OPTIONAL_PARTS),
            "impl": implementation.label_of(args.impl),
            "tampering": tampering,
            "harness_version": __version__,
            "python": platform.python_version(),
            "numpy": numpy_version(),
            "platform": platform.platform(),
            "seeds": {"hidden_seed": args.hidden_seed if args.hidden else None,
                      "fixtures": "fixed in convgrader/course/generate_fixtures.py"},
            "fixtures_sha256": fixtures_sha256,
            "command": shlex.join(sys.argv),
            "graded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    }


def numpy_version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("numpy")
    except PackageNotFoundError:
        return None


def test_output(entry):
    text = entry.get("message", "") if entry["outcome"] != "passed" else ""
    if len(text) > OUTPUT_CAP:
        text = text[:OUTPUT_CAP] + f"\n[... {len(text) - OUTPUT_CAP} more characters cut]"
    printed = entry.get("output_bytes", 0)
    if printed:
        note = f"(your code printed {printed:,} bytes during this test; the first {len(entry['output'])} " \
               f"characters follow; printing costs no points)\n{entry['output'][:500]}"
        text = f"{text}\n{note}" if text else note
    return text.strip()


def overall_output(tampering, skipped):
    lines = []
    if tampering:
        lines.append("TAMPERING DETECTED: the submission touched what it must not, so it scores 0:")
        lines += [f"  - {event}" for event in tampering]
    if skipped:
        lines.append("Not run here (no points): " + ", ".join(e["name"] for e in skipped))
    return "\n".join(lines)


def write_outputs(args, report):
    if args.results:
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(report, indent=2), encoding="utf-8")
    if args.junit:
        args.junit.parent.mkdir(parents=True, exist_ok=True)
        junit_xml(report).write(args.junit, encoding="utf-8", xml_declaration=True)
    markdown = markdown_summary(report)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown, encoding="utf-8")
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary:
            summary.write(markdown + "\n")


def junit_xml(report):
    failures = sum(t["status"] == "failed" for t in report["tests"])
    suite = ElementTree.Element("testsuite", name="convgrader", tests=str(len(report["tests"])),
                                failures=str(failures), errors="0",
                                time=str(report["execution_time"]))
    for test in report["tests"]:
        case = ElementTree.SubElement(suite, "testcase", classname=test["tags"][0] if test["tags"] else "",
                                      name=test["name"], time=str(test["extra_data"]["duration"]))
        if test["status"] == "failed":
            failure = ElementTree.SubElement(case, "failure", message=test["output"].split("\n")[0][:300])
            failure.text = test["output"]
    return ElementTree.ElementTree(suite)


def part_rows(report):
    for part in PARTS:
        info = report["extra_data"]["parts"][part]
        if info["total"]:
            bonus = " (bonus)" if part in OPTIONAL_PARTS else ""
            yield part + bonus, info


def markdown_summary(report):
    lines = [f"### Grade: {report['score']:g} / {report['max_score']:g}", "",
             "| part | passed | points |", "|---|---|---|"]
    for name, info in part_rows(report):
        mark = "✅" if info["passed"] == info["total"] else "❌"
        lines.append(f"| {mark} `{name}` | {info['passed']}/{info['total']} | "
                     f"{info['score']:.2f} / {info['max_score']:g} |")
    failed = [t for t in report["tests"] if t["status"] == "failed" and t["visibility"] == "visible"]
    if failed:
        lines += ["", "<details><summary>Failures</summary>", ""]
        for test in failed[:30]:
            first = test["output"].split("\n")[0] if test["output"] else ""
            lines.append(f"- `{test['name']}`: {first[:200]}")
        lines += ["", "</details>"]
    if report["output"]:
        lines += ["", "```", report["output"], "```"]
    return "\n".join(lines) + "\n"


def terminal_table(report):
    lines = ["", f"{'part':<36} {'passed':>8} {'points':>15}", "-" * 61]
    for name, info in part_rows(report):
        lines.append(f"{name:<36} {info['passed']:>3}/{info['total']:<4} "
                     f"{info['score']:>7.2f} / {info['max_score']:<5g}")
    lines += ["-" * 61, f"{'total':<36} {'':>8} {report['score']:>7.2f} / {report['max_score']:g}"]
    if report["output"]:
        lines += ["", report["output"]]
    return "\n".join(lines)
