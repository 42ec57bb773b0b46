"""Hidden: max_pool_forward_naive and max_pool_backward_naive against the answer key, across the contract.

Windows overlap, touch or leave gaps; integer-valued inputs and ReLU outputs
tie, and dx is judged by the tie rule (any valid routing passes).
"""

import numpy as np
import pytest

from answer_key import layers as key
from convgrader.judging.compare import assert_close, assert_pool_gradient_close, cache_from, unpack
from convgrader.judging.diagnostics import Context
from tests.graded import test_properties as properties
from tests.graded.contract import HIDDEN, pool_cases, property_test


def expected_pool(case):
    """The answer key's out and dx, in float64."""
    x, dout = case["x"].astype(np.float64), case["dout"].astype(np.float64)
    out, cache = key.max_pool_forward_naive(x, case.param("pool_param"))
    return out, key.max_pool_backward_naive(dout, cache)


@pytest.mark.grades("max_pool_forward_naive", weight=5)
@pytest.mark.twin_of.with_args(properties.test_max_pool_forward_naive_property)  # it replays that test on fresh examples
@property_test(pool_cases(), HIDDEN)
def test_hidden_max_pool_forward_naive(impl, case):
    expected, _ = expected_pool(case)
    out, _ = unpack(impl.max_pool_forward_naive(case["x"], case.param("pool_param")), 2, "(out, cache)",
                    like=(expected, None), context=Context.of(case))
    assert_close(out, expected, "out", precision=case["x"].dtype, context=Context.of(case))


@pytest.mark.grades("max_pool_backward_naive", weight=5)
@pytest.mark.twin_of.with_args(properties.test_max_pool_backward_naive_property)  # it replays that test on fresh examples
@property_test(pool_cases(), HIDDEN, shown=("x", "dout"))
def test_hidden_max_pool_backward_naive(impl, case):
    _, expected = expected_pool(case)
    cache = cache_from(impl.max_pool_forward_naive, case["x"], case.param("pool_param"))
    dx = impl.max_pool_backward_naive(case["dout"], cache)
    context = Context.of(case, impl.max_pool_forward_naive, impl.max_pool_backward_naive)
    assert_pool_gradient_close(dx, expected, case["x"], case["dout"], case.param("pool_param"),
                               precision=case["x"].dtype, context=context)
