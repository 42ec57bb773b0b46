"""Self-test: ``grade --classroom`` writes what GitHub Classroom's reporter reads, and the Classroom workflow is valid.

The format is the one ``classroom-resources/autograding-grading-reporter`` reads
(its ``src/notify-classroom.js``, ``src/console-results.js`` and
``__tests__/aggregate-results.test.js``): top-level ``version``, ``status``,
``max_score``, ``tests``; each test ``name``, ``status`` (pass/fail/error),
``message``, ``line_no``, ``execution_time``, ``score``. Classroom records the
sum of the tests' scores out of ``max_score``.

Set ``CONVGRADER_CLASSROOM_REPORTER`` to the reporter's ``dist/main.js`` (its tag
v1) to also run the real reporter on the document.
"""

import base64
import json
import os
import shutil
import subprocess
import sys

import yaml

from tests.selftest.graded_runs import IMPLEMENTATIONS

from convgrader import language
from convgrader.course import release
from convgrader.judging import classroom
from convgrader.judging.points import POINTS
from convgrader.paths import PROJECT
from convgrader.report import FAILED, GRADED, PASSED, PartTotal, Report, Verdict

WORKFLOW = PROJECT / release.RELEASE_FILES / "classroom.yml"
TOP_KEYS = {"version", "status", "max_score", "tests"}
TEST_KEYS = {"name", "status", "message", "line_no", "execution_time", "score"}
STATUSES = {"pass", "fail", "error"}


def assert_reporter_format(document):
    assert set(document) == TOP_KEYS and document["version"] == 1
    assert document["status"] in STATUSES and isinstance(document["max_score"], (int, float))
    for test in document["tests"]:
        assert set(test) == TEST_KEYS, test
        assert test["status"] in STATUSES and isinstance(test["score"], (int, float))
        assert isinstance(test["name"], str) and isinstance(test["message"], str)
        assert test["line_no"] == 0 and test["execution_time"].endswith("ms")


def points_recorded(document):
    """What Classroom records, as the reporter's NotifyClassroom computes it: (points, max) or None."""
    if not document["max_score"]:
        return None
    return sum(test["score"] for test in document["tests"]), document["max_score"]


def verdict(part, outcome, message="", name=None):
    return Verdict(nodeid=f"tests/graded/x.py::{name or part}", name=name or f"test_{part}", part=part,
                   outcome=outcome, message=message)


def graded_report():
    tests = [verdict("conv_forward_naive", PASSED, name="a"), verdict("conv_forward_naive", FAILED,
                                                                       "out differs\x1b[2J", name="b"),
             verdict("max_pool_forward_naive", PASSED)]
    parts = {"conv_forward_naive": PartTotal(score=6.0, max_score=12.0, passed=1, total=2),
             "max_pool_forward_naive": PartTotal(score=8.0, max_score=8.0, passed=1, total=1)}
    return Report(status=GRADED, score=14.0, max_score=100.0, parts=parts, tests=tests)


def test_one_entry_per_graded_part_with_its_points():
    document = classroom.to_classroom(graded_report())
    assert_reporter_format(document)
    entries = {test["name"]: test for test in document["tests"]}
    assert list(entries) == ["conv_forward_naive", "max_pool_forward_naive"]
    assert entries["conv_forward_naive"]["status"] == "fail" and entries["conv_forward_naive"]["score"] == 6.0
    assert entries["max_pool_forward_naive"]["status"] == "pass" and entries["max_pool_forward_naive"]["score"] == 8
    assert document["status"] == "fail"
    assert points_recorded(document) == (14.0, sum(POINTS.values()))
    assert "\x1b" not in entries["conv_forward_naive"]["message"]
    assert "\\x1b" in entries["conv_forward_naive"]["message"]


def test_messages_speak_the_students_language():
    language.set_current("ru")
    try:
        document = classroom.to_classroom(graded_report())
    finally:
        language.set_current("en")
    assert "пройдено тестов: 1 из 2" in document["tests"][0]["message"]
    assert "Первая ошибка, b:" in document["tests"][0]["message"]


def test_a_failed_grading_records_no_zero():
    document = classroom.to_classroom(Report.failed("the sandbox could not start"))
    assert_reporter_format(document)
    assert document["status"] == "error" and points_recorded(document) is None
    assert "the sandbox could not start" in document["tests"][0]["message"]


def test_a_rejected_upload_scores_zero_on_every_part():
    document = classroom.to_classroom(Report.rejected("no layers.py found"))
    assert_reporter_format(document)
    assert document["status"] == "fail" and points_recorded(document) == (0, sum(POINTS.values()))


def test_tampering_costs_every_part():
    report = graded_report()
    report.tampering = ["import of answer_key"]
    document = classroom.to_classroom(report)
    assert points_recorded(document)[0] == 0 and all(t["status"] == "fail" for t in document["tests"])


def buggy_copy(tmp_path):
    """loops_float32 without the bias of the convolution: conv_forward_naive fails, max pooling passes."""
    folder = tmp_path / "no_bias"
    shutil.copytree(IMPLEMENTATIONS / "loops_float32", folder)
    layers = folder / "layers.py"
    text = layers.read_text(encoding="utf-8")
    assert "np.sum(window * w[f]) + b[f]" in text
    layers.write_text(text.replace("np.sum(window * w[f]) + b[f]", "np.sum(window * w[f])"), encoding="utf-8")
    return folder


def test_grade_classroom_end_to_end(tmp_path):
    document_file = tmp_path / "classroom.json"
    run = subprocess.run([sys.executable, "-m", "convgrader", "grade", "--impl", str(buggy_copy(tmp_path)),
                          "--classroom", str(document_file), "--lang", "ru",
                          "-k", "conv_forward_naive or max_pool_forward_naive"],
                         cwd=PROJECT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # What the workflow hands the reporter: base64 of the file, decoded as the reporter does.
    document = json.loads(base64.b64decode(base64.b64encode(document_file.read_bytes())).decode("utf-8"))
    assert_reporter_format(document)
    entries = {test["name"]: test for test in document["tests"]}
    assert entries["max_pool_forward_naive"] == {**entries["max_pool_forward_naive"], "status": "pass", "score": 8}
    assert entries["conv_forward_naive"]["status"] == "fail" and entries["conv_forward_naive"]["score"] == 0
    assert "подсказка (bias)" in entries["conv_forward_naive"]["message"]
    assert points_recorded(document) == (8, 100)
    reporter = os.environ.get("CONVGRADER_CLASSROOM_REPORTER")
    if reporter:  # the real reporter, when a copy of it is at hand
        env = dict(os.environ, INPUT_RUNNERS="convgrader",
                   CONVGRADER_RESULTS=base64.b64encode(document_file.read_bytes()).decode("ascii"))
        out = subprocess.run(["node", reporter], env=env, capture_output=True, text=True, timeout=60).stdout
        assert '{"totalPoints":8,"maxPoints":100}' in out


def workflow():
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def schema_check(path):
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True, timeout=120)


def test_the_classroom_workflow_passes_the_workflow_schema(tmp_path):
    run = schema_check(WORKFLOW)
    assert run.returncode == 0, run.stdout + run.stderr
    broken = workflow()
    broken["jobs"]["run-autograding-tests"]["stepz"] = broken["jobs"]["run-autograding-tests"].pop("steps")
    (tmp_path / "broken.yml").write_text(yaml.safe_dump(broken), encoding="utf-8")
    assert schema_check(tmp_path / "broken.yml").returncode != 0, "the schema check must be able to fail"


def test_the_reporter_reads_the_grade_steps_result():
    steps = workflow()["jobs"]["run-autograding-tests"]["steps"]
    grade = next(step for step in steps if step.get("name") == "grade")
    reporter = next(step for step in steps if "autograding-grading-reporter" in step.get("uses", ""))
    assert reporter["uses"].endswith("@v1")
    runner = grade["id"]
    assert reporter["with"]["runners"] == runner
    assert reporter["env"] == {f"{runner.upper()}_RESULTS": f"${{{{ steps.{runner}.outputs.result }}}}"}
    assert "--classroom grade/classroom.json" in grade["run"]
    assert 'result=$(base64 -w 0 grade/classroom.json)' in grade["run"]
    fallback = grade["run"].split("echo '", 1)[1].split("' >", 1)[0]
    document = json.loads(fallback)
    assert_reporter_format(document)
    assert points_recorded(document) is None, "a grader that did not run records no zero"


def test_the_classroom_release_ships_the_classroom_workflow_instead():
    plain = release.student_contents(PROJECT)
    contents = release.student_contents(PROJECT, classroom=True)
    assert ".github/workflows/grade.yml" in plain and ".github/workflows/classroom.yml" not in plain
    assert ".github/workflows/grade.yml" not in contents
    assert contents[".github/workflows/classroom.yml"] == WORKFLOW.read_bytes()
    assert release.find_leaks(contents) == []
