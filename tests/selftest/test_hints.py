"""Hints on real bugs: every one-bug implementation whose bug has a hint gets that hint.

Each mutant declares the tag of the hint its bug should produce (``HINT``);
grading it as a user would, at least one failure of the part it breaks must
carry that hint. Correct implementations in other styles must not fail at all,
so no hint can ever be shown to them.
"""

import pytest

from convgrader.messages import marker
from tests.selftest.graded_runs import IMPLEMENTATIONS, MUTANTS, declared, grade, mutant_names, reachable_selection

pytestmark = pytest.mark.timeout(1800)

HINTED = [name for name in mutant_names() if declared(MUTANTS / name)["HINT"] not in (None, "logic")]


@pytest.mark.parametrize("mutant", HINTED)
def test_the_hint_points_at_the_bug(tmp_path, mutant):
    promised = declared(MUTANTS / mutant)
    must = set(promised["MUST_FAIL"])
    verdicts = grade(str(MUTANTS / mutant), tmp_path, select=reachable_selection(mutant))
    failures = [v for v in verdicts if v.outcome in ("failed", "error") and v.part in must]
    assert failures, f"{mutant}: its bug was not caught"
    wanted = marker(promised["HINT"])
    assert any(wanted in v.message for v in failures), (
        f"{mutant}: no failure says {wanted!r}; the first one says:\n{failures[0].message[:1500]}")


@pytest.mark.parametrize("style", ["vectorized", "loops_float32"])
def test_correct_implementations_get_no_failure_and_no_hint(tmp_path, style):
    verdicts = grade(str(IMPLEMENTATIONS / style), tmp_path)  # shared with test_fairness
    lost = [f"{v.name}: {v.outcome}\n{v.message[:600]}" for v in verdicts if v.outcome in ("failed", "error")]
    assert not lost, "\n".join(lost)
    assert not any("hint (" in v.message for v in verdicts)


@pytest.mark.parametrize("mutant", [name for name in HINTED if declared(MUTANTS / name)["HINT"] == "unfinished"])
def test_a_result_never_computed_gets_no_other_hint(tmp_path, mutant):
    """An all-zero or untouched result matches patterns by accident (zeros fit 'stride ignored' too)."""
    verdicts = grade(str(MUTANTS / mutant), tmp_path, select=reachable_selection(mutant))
    for verdict in verdicts:
        if marker("unfinished") in verdict.message:
            others = [line for line in verdict.message.splitlines()
                      if line.startswith("hint (") and not line.startswith(marker("unfinished"))]
            assert not others, f"{verdict.name}: {others}"


def test_the_worst_index_of_a_conv_output_names_the_filter_axis(tmp_path):
    verdicts = grade(str(MUTANTS / "conv_forward_missing_bias"), tmp_path, select="test_conv_forward_naive")
    messages = [v.message for v in verdicts if v.outcome == "failed" and "worst at" in v.message]
    assert messages and all("(n, f, h, w) = (" in m or "index (" in m for m in messages)
    assert any("(n, f, h, w) = (" in m for m in messages)


#: Mutants whose every failure must carry one hint, and hints none of their failures may carry.
EVERY_FAILURE = {
    "conv_backward_crop_pad_zero_slice": ("the crop a[:, :, pad:-pad, pad:-pad]", ("hint (stride)",)),
    "conv_forward_np_pad_every_axis": (None, ("hint (stride)",)),
    "conv_forward_true_division_size": ("in Python 3, / always gives a float", ("hint (padding)", "hint (stride)")),
    "conv_forward_returns_cache_first": ("come in the order (cache, out)", ()),
    "spatial_groupnorm_eps_too_small": (None, ("hint (axes)",)),
    "conv_backward_dw_window_ignores_stride": (None, ("hint (padding)",)),
}


@pytest.mark.parametrize("mutant", sorted(EVERY_FAILURE))
def test_the_hint_is_on_every_failure_and_no_misleading_one_on_any(tmp_path, mutant):
    """The smallest failing inputs of property tests included: a hint there is read first."""
    wanted, unwanted = EVERY_FAILURE[mutant]
    must = set(declared(MUTANTS / mutant)["MUST_FAIL"])
    verdicts = grade(str(MUTANTS / mutant), tmp_path, select=" or ".join(sorted(must)))
    failures = [v for v in verdicts if v.outcome in ("failed", "error") and v.part in must]
    assert failures, f"{mutant}: its bug was not caught"
    for verdict in failures:
        assert wanted is None or wanted in verdict.message, f"{verdict.name}:\n{verdict.message[:1500]}"
        assert not any(line in verdict.message for line in unwanted), f"{verdict.name}:\n{verdict.message[:1500]}"
