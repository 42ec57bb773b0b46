"""Fairness: the graded suite fails exactly the buggy parts, and never a correct submission.

Each implementation is graded in a fresh process, as a user would grade it.
A one-bug mutant is graded only on the tests its bug can reach (its own part and
the parts declared to depend on it); the rest of its code is the answer key's.
"""

import pytest

from convgrader.assignment import PARTS
from tests.selftest.graded_runs import IMPLEMENTATIONS, MUTANTS, declared, grade, mutant_names, reachable_selection

# ties_*: the answer key but for max-pool backward, routing a tie to the last maximum or splitting it.
CORRECT_STYLES = ["vectorized", "loops_float32", "ties_last_maximum", "ties_split_evenly"]
# Only the CIFAR-10 rows may skip: the data set cannot be downloaded here.
MAY_SKIP = ("cifar10",)

pytestmark = pytest.mark.timeout(1800)


def assert_full_marks(verdicts):
    assert verdicts, "no graded test ran"
    lost = [f"{v.name}: {v.outcome}\n{v.message[:400]}" for v in verdicts
            if v.outcome != "passed" and not (v.outcome == "skipped" and any(s in v.name for s in MAY_SKIP))]
    assert not lost, "a correct implementation lost points:\n" + "\n".join(lost)


def test_answer_key_scores_everything(tmp_path):
    assert_full_marks(grade("answer_key", tmp_path))


@pytest.mark.parametrize("style", CORRECT_STYLES)
def test_correct_implementation_scores_everything(tmp_path, style):
    assert_full_marks(grade(str(IMPLEMENTATIONS / style), tmp_path))


def test_skeleton_fails_every_graded_test_as_not_implemented(tmp_path):
    verdicts = grade("student_impl", tmp_path)
    wrong = [f"{v.name}: {v.outcome} {v.message[:200]}" for v in verdicts
             if not (v.outcome == "failed" and "not implemented" in v.message)
             and not (v.outcome == "skipped" and any(s in v.name for s in MAY_SKIP))]
    assert not wrong, "\n".join(wrong)
    assert {v.part for v in verdicts} == set(PARTS)


def test_every_graded_test_belongs_to_one_part(tmp_path):
    verdicts = grade("answer_key", tmp_path)  # the session's grading of the answer key, shared
    assert all(v.part in PARTS for v in verdicts), [v.name for v in verdicts if v.part not in PARTS]


@pytest.mark.parametrize("mutant", mutant_names())
def test_mutant_fails_its_own_part_and_no_other(tmp_path, mutant, record_property):
    promised = declared(MUTANTS / mutant)
    must, may = set(promised["MUST_FAIL"]), set(promised["MAY_FAIL"])
    assert must and must <= set(PARTS) and may <= set(PARTS), promised
    verdicts = grade(str(MUTANTS / mutant), tmp_path, select=reachable_selection(mutant))
    failed = {v.part for v in verdicts if v.outcome in ("failed", "error")}
    record_property("caught", bool(must <= failed))
    assert must <= failed, f"{mutant}: the bug in {sorted(must - failed)} was not caught"
    assert failed <= must | may, f"{mutant}: tests of {sorted(failed - must - may)} failed too"
