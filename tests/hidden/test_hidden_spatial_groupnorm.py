"""Hidden: spatial group normalization against the answer key, G from 1 to C, across the contract."""

import numpy as np
import pytest

from answer_key import layers as key
from convgrader.judging.compare import assert_all_close, assert_close, cache_from, unpack
from convgrader.judging.diagnostics import Context
from tests.graded import test_properties as properties
from tests.graded.contract import HIDDEN, groupnorm_cases, property_test


def expected_groupnorm(case):
    """The answer key's out and {dx, dgamma, dbeta}, in float64."""
    x, gamma, beta, dout = (case[name].astype(np.float64) for name in ("x", "gamma", "beta", "dout"))
    out, cache = key.spatial_groupnorm_forward(x, gamma, beta, case.param("G"), case.param("gn_param"))
    return out, dict(zip(("dx", "dgamma", "dbeta"), key.spatial_groupnorm_backward(dout, cache)))


@pytest.mark.grades("spatial_groupnorm_forward", weight=5)
@pytest.mark.twin_of.with_args(properties.test_spatial_groupnorm_forward_property)  # it replays that test on fresh examples
@property_test(groupnorm_cases(), HIDDEN)
def test_hidden_spatial_groupnorm_forward(impl, case):
    expected, _ = expected_groupnorm(case)
    out, _ = unpack(impl.spatial_groupnorm_forward(case["x"], case["gamma"], case["beta"], case.param("G"),
                                                   case.param("gn_param")), 2, "(out, cache)",
                    like=(expected, None), context=Context.of(case))
    assert_close(out, expected, "out", precision=case["x"].dtype, context=Context.of(case))


@pytest.mark.grades("spatial_groupnorm_backward", weight=5)
@pytest.mark.twin_of.with_args(properties.test_spatial_groupnorm_backward_property)  # it replays that test on fresh examples
@property_test(groupnorm_cases(), HIDDEN, shown=("x", "dout"))
def test_hidden_spatial_groupnorm_backward(impl, case):
    _, expected = expected_groupnorm(case)
    cache = cache_from(impl.spatial_groupnorm_forward, case["x"], case["gamma"], case["beta"],
                       case.param("G"), case.param("gn_param"))
    context = Context.of(case, impl.spatial_groupnorm_forward, impl.spatial_groupnorm_backward)
    grads = unpack(impl.spatial_groupnorm_backward(case["dout"], cache), 3, "(dx, dgamma, dbeta)",
                   like=(expected["dx"], expected["dgamma"], expected["dbeta"]), context=context)
    assert_all_close(grads, expected, ("dx", "dgamma", "dbeta"), precision=case["x"].dtype, context=context)
