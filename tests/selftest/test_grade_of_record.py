"""The grade of record does not pay for memorized answers.

Students receive every visible test's inputs and expected values, so a
submission can answer from a table of them. With ``--hidden`` each scored
visible test has a hidden twin (``tests/hidden/test_hidden_twins.py``) and
scores only when its twin passes (``convgrader/judging/points.py``).

The table cheater (``implementations/hostile/table_lookup_cheater``) computes
nothing: its table is recorded here by running the visible suite against the
answer key, as its author would at home, and shipped inside the submission. It
passes the visible tests, and graded by ``grade --hidden`` it must score 0 on
every part it did not implement. Correct implementations in every style keep
full marks with the twins: ``test_hidden.py`` grades each on the hidden tests,
twins included.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from convgrader import language
from convgrader.assignment import PARTS
from convgrader.judging.points import withhold_unconfirmed
from convgrader.report import Report, Verdict
from convgrader.report import test_output as output_of  # aliased: pytest would collect a test_ name
from tests.selftest.graded_runs import IMPLEMENTATIONS, PROJECT, grade_report

CHEATER = IMPLEMENTATIONS / "hostile" / "table_lookup_cheater"
#: The visible tests the cheater passes honestly: it builds its model's parameters as the contract says.
HONEST = ("test_ThreeLayerConvNet_init_shapes_and_dtype", "test_ThreeLayerConvNet_init_statistics")
#: The visible tests its table cannot answer: they build models with fresh random weights first; and the
#: digits trainings, which its per-image labels no longer carry since they train at the digits' own 8x8
#: size. Failing them only lowers the cheater's visible score: what is asserted is that nothing memorized pays.
UNANSWERED = ("test_ThreeLayerConvNet_initial_loss_is_log_num_classes",
              "test_ThreeLayerConvNet_regularization_adds_half_reg_sum_of_squares",
              "test_ThreeLayerConvNet_overfits_100_digits_images",
              "test_ThreeLayerConvNet_one_epoch_digits_train_accuracy")

pytestmark = pytest.mark.timeout(1800)


def test_a_visible_test_scores_only_when_its_twin_passes():
    confirmed, withheld, failed, untwinned = (Verdict(nodeid=f"tests/graded/t.py::test_{n}", name=f"test_{n}",
                                                      part="conv_forward_naive", outcome=outcome)
                                              for n, outcome in (("a", "passed"), ("b", "passed"),
                                                                 ("c", "failed"), ("d", "passed")))
    twins = [Verdict(nodeid=f"tests/hidden/t.py::twin_{n}", name=f"twin_{n}", part="conv_forward_naive",
                     scored=False, hidden=True, outcome=outcome, twin_of=[f"tests/graded/t.py::test_{n}"])
             for n, outcome in (("a", "passed"), ("b", "failed"), ("c", "failed"))]
    verdicts = [confirmed, withheld, failed, untwinned, *twins]
    assert withhold_unconfirmed(verdicts) == [withheld]
    report = Report(tests=verdicts)
    assert [report.credited(v) for v in (confirmed, withheld, failed, untwinned)] == [True, False, False, True]
    assert withheld.unconfirmed_by == "twin_b" and not failed.unconfirmed_by
    before = language.current()
    try:
        language.set_current("ru")
        assert "скрытый тест twin_b" in output_of(withheld)
        language.set_current("en")
        assert "(the hidden test twin_b) failed" in output_of(withheld)
    finally:
        language.set_current(before)


def collected(*args):
    """The collect-manifest entries of ``pytest tests/graded tests/hidden --hidden ...``."""
    manifest_args = ["--collect-only", "-q", "-p", "no:cacheprovider", "--impl=answer_key"]
    run = subprocess.run([sys.executable, "-m", "pytest", "tests/graded", "tests/hidden", "--hidden",
                          *manifest_args, *args], cwd=PROJECT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return run


def test_every_scored_visible_test_has_a_hidden_twin(tmp_path):
    manifest = tmp_path / "collected.jsonl"
    collected(f"--collect-manifest={manifest}")
    entries = [json.loads(line) for line in manifest.read_text().splitlines()]
    nodeids = {entry["nodeid"] for entry in entries}
    confirmed = {nodeid for entry in entries for nodeid in entry["twin_of"]}
    assert confirmed <= nodeids, f"twins of tests that do not exist: {sorted(confirmed - nodeids)}"
    visible = [e for e in entries if not e["hidden"] and e["scored"]]
    assert visible and all(e["nodeid"].startswith("tests/graded/") for e in visible)
    missing = [e["nodeid"] for e in visible if e["nodeid"] not in confirmed]
    assert not missing, "visible tests that a table of the visible answers would score:\n" + "\n".join(missing)
    twins = [e for e in entries if e["twin_of"]]
    assert all(e["hidden"] for e in twins), "a twin must be hidden"
    parts = {e["part"]: e for e in entries}
    assert set(parts) == set(PARTS)


@pytest.fixture(scope="module")
def table_cheater(tmp_path_factory):
    """The cheater with its table: the visible suite's every answer, recorded from the answer key."""
    folder = tmp_path_factory.mktemp("cheater") / "table_lookup_cheater"
    shutil.copytree(CHEATER, folder, ignore=shutil.ignore_patterns("__pycache__"))
    table = folder / "table_data.py"
    run = subprocess.run([sys.executable, "-m", "pytest", "tests/graded", f"--impl={CHEATER / 'recorder'}", "-q",
                          "-p", "no:cacheprovider", "--lang=en", "-k", "not cifar10"],
                         cwd=PROJECT, capture_output=True, text=True, timeout=1800,
                         env={**os.environ, "CHEATER_TABLE": str(table)})
    assert run.returncode == 0 and table.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    return folder


def test_table_cheater_scores_nothing_it_did_not_implement_in_the_grade_of_record(tmp_path, table_cheater):
    results = grade_report(table_cheater, tmp_path, extra_args=["--hidden"])
    tests = results["tests"]
    visible = [t for t in tests if not t["extra_data"]["hidden"]]

    # The table works: the cheater passes every visible test it can answer ...
    not_passed = [t["name"] for t in visible if t["extra_data"]["outcome"] != "passed"]
    assert {name.split("[")[0] for name in not_passed} <= set(UNANSWERED), not_passed
    # ... and none of that is paid: only its honest initialization scores.
    paid = {t["name"].split("[")[0] for t in tests if t["score"] > 0}
    assert paid <= set(HONEST), f"memorized answers paid: {sorted(paid - set(HONEST))}"
    parts = results["extra_data"]["parts"]
    assert all(parts[p]["score"] == 0 for p in PARTS if p != "ThreeLayerConvNet"), parts
    honest_points = sum(t["score"] for t in visible if t["name"].split("[")[0] in HONEST)
    assert results["score"] == pytest.approx(honest_points, abs=0.01)

    # Each withheld test says why, naming the twin that failed.
    withheld = [t for t in visible if t["extra_data"]["outcome"] == "passed"
                and t["name"].split("[")[0] not in HONEST]
    assert withheld and all(t["status"] == "failed" and t["score"] == 0 for t in withheld)
    for test in withheld:
        twin = test["extra_data"]["unconfirmed_by"]
        assert twin.startswith("test_hidden"), test
        assert f"(the hidden test {twin}) failed" in test["output"], test["output"]


def test_without_hidden_the_visible_grade_is_unchanged(tmp_path, table_cheater):
    """Students' own runs: no twin runs, and the table's answers pass as they always did."""
    results = grade_report(table_cheater, tmp_path, select="conv_forward_naive or spatial_groupnorm_backward")
    assert results["tests"] and not any(t["extra_data"]["hidden"] for t in results["tests"])
    assert all(t["status"] == "passed" and not t["extra_data"].get("unconfirmed_by") for t in results["tests"])
    assert results["extra_data"]["parts"]["conv_forward_naive"]["score"] == pytest.approx(12)
