"""Spatial group normalization, the optional part (seed rows 17-18).

G groups of C // G consecutive channels; statistics per sample and group over
(C // G, H, W); gamma and beta of shape (1, C, 1, 1).
"""

import numpy as np
import pytest

from convgrader.judging.compare import (STATISTIC_TOLERANCE, assert_all_close, assert_close, assert_unchanged, assert_within,
                                cache_from, unpack)
from convgrader.judging.diagnostics import Context
from convgrader.judging.fixtures import load, over_cases
from convgrader.messages import say


def forward(impl, case, x=None, context=None):
    x = case["x"] if x is None else x
    return unpack(impl.spatial_groupnorm_forward(x, case["gamma"], case["beta"], case.param("G"),
                                                 case.param("gn_param")), 2, "(out, cache)",
                  like=(case["out"], None), context=context)


@pytest.mark.grades("spatial_groupnorm_forward")
@over_cases("spatial_groupnorm")
def test_spatial_groupnorm_forward(impl, case):
    x = case["x"]
    context = Context.of(case)
    out, _ = forward(impl, case, x, context)
    assert_unchanged(x, case["x"], "x")
    assert_close(out, case["out"], "out", precision=x.dtype, context=context)


@pytest.mark.grades("spatial_groupnorm_forward")
def test_spatial_groupnorm_forward_normalizes_each_group(impl):
    """Row 17: with gamma 1 and beta 0, every (sample, group) has mean 0 and std 1."""
    check_normalizes_each_group(impl, load("spatial_groupnorm", "seed_unit_gamma"))


def check_normalizes_each_group(impl, case):
    """Row 17's check on ``case`` (gamma 1, beta 0)."""
    n, groups = case["x"].shape[0], case.param("G")
    out, _ = forward(impl, case)
    grouped = np.asarray(out, dtype=np.float64).reshape(n * groups, -1)
    assert_within(grouped.mean(axis=1), 0.0, STATISTIC_TOLERANCE, say("what_group_mean"))
    assert_within(grouped.std(axis=1), 1.0, STATISTIC_TOLERANCE, say("what_group_std"))


@pytest.mark.grades("spatial_groupnorm_backward")
@over_cases("spatial_groupnorm", having=("dout",))
def test_spatial_groupnorm_backward(impl, case):
    x, dout = case["x"], case["dout"]
    cache = cache_from(impl.spatial_groupnorm_forward, x, case["gamma"], case["beta"],
                       case.param("G"), case.param("gn_param"))
    context = Context.of(case, impl.spatial_groupnorm_forward, impl.spatial_groupnorm_backward)
    grads = unpack(impl.spatial_groupnorm_backward(dout, cache), 3, "(dx, dgamma, dbeta)",
                   like=(case["dx"], case["dgamma"], case["dbeta"]), context=context)
    assert_all_close(grads, case, ("dx", "dgamma", "dbeta"), precision=x.dtype, context=context)
