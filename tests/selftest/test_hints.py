"""Hints on real bugs: every one-bug implementation whose bug has a hint gets that hint.

Each mutant declares the tag of the hint its bug should produce (``HINT``);
grading it as a user would, at least one failure of the part it breaks must
carry that hint. Correct implementations in other styles must not fail at all,
so no hint can ever be shown to them.
"""

import pytest

from convgrader.messages import marker
from tests.selftest.graded_runs import IMPLEMENTATIONS, MUTANTS, declared, grade, mutant_names

pytestmark = pytest.mark.timeout(1800)

HINTED = [name for name in mutant_names() if declared(MUTANTS / name)["HINT"] not in (None, "logic")]


@pytest.mark.parametrize("mutant", HINTED)
def test_the_hint_points_at_the_bug(tmp_path, mutant):
    promised = declared(MUTANTS / mutant)
    must = set(promised["MUST_FAIL"])
    verdicts = grade(str(MUTANTS / mutant), tmp_path, select=" or ".join(sorted(must)))
    failures = [v for v in verdicts if v.outcome in ("failed", "error") and v.part in must]
    assert failures, f"{mutant}: its bug was not caught"
    wanted = marker(promised["HINT"])
    assert any(wanted in v.message for v in failures), (
        f"{mutant}: no failure says {wanted!r}; the first one says:\n{failures[0].message[:1500]}")


@pytest.mark.parametrize("style", ["vectorized", "loops_float32"])
def test_correct_implementations_get_no_failure_and_no_hint(tmp_path, style):
    verdicts = grade(str(IMPLEMENTATIONS / style), tmp_path, select="not cifar10")
    lost = [f"{v.name}: {v.outcome}\n{v.message[:600]}" for v in verdicts if v.outcome in ("failed", "error")]
    assert not lost, "\n".join(lost)
    assert not any("hint (" in v.message for v in verdicts)
