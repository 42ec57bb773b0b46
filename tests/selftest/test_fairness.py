"""Fairness: the graded suite fails exactly the buggy parts, and never a correct submission.

Each implementation is graded in a fresh process, as a user would grade it.
A one-bug mutant is graded only on the tests its bug can reach (its own part and
the parts declared to depend on it); the rest of its code is the answer key's.
"""

import pytest

from convgrader.assignment import PARTS
from convgrader.messages import marker
from tests.selftest.graded_runs import IMPLEMENTATIONS, MUTANTS, declared, grade, mutant_names, reachable_selection
from tests.selftest.submission_files import write_tree

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


def python2_division(source):
    """A correct implementation's layers.py with the forwards' output sizes written for Python 2 (``/``)."""
    lines = source.splitlines(keepends=True)
    for number, line in enumerate(lines):
        if line.lstrip().startswith(("H_out = 1 + (H", "W_out = 1 + (W")):
            lines[number] = line.replace("//", "/")
    written = "".join(lines)
    assert written.count(") / stride") == 4, "loops_float32 changed: update this test"
    return written


@pytest.mark.parametrize("isolated", [False, True], ids=["in_process", "isolated"])
def test_a_correct_backward_is_graded_when_its_forward_raises(tmp_path, isolated):
    """A forward that raises costs its own tests only: the backward gets the conventional cache."""
    source = (IMPLEMENTATIONS / "loops_float32" / "layers.py").read_text(encoding="utf-8")
    submission = write_tree(tmp_path / "python2", {"__init__.py": "", "layers.py": python2_division(source)})
    parts = ("conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive", "max_pool_backward_naive")
    verdicts = grade(str(submission), tmp_path, select=" or ".join(parts),
                     extra_args=("--isolate",) if isolated else ())
    outcomes = {part: {v.outcome for v in verdicts if v.part == part} for part in parts}
    assert outcomes["conv_forward_naive"] == {"failed"} and outcomes["max_pool_forward_naive"] == {"failed"}, outcomes
    assert outcomes["conv_backward_naive"] == {"passed"}, outcomes
    assert outcomes["max_pool_backward_naive"] == {"passed"}, outcomes
    forward_failures = [v.message for v in verdicts if v.part == "conv_forward_naive"]
    assert all(marker("output_shape") in message for message in forward_failures), forward_failures[0]
