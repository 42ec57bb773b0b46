"""Max pooling: max_pool_forward_naive and max_pool_backward_naive (seed rows 4-5).

Inputs are drawn from a continuous distribution, so no window holds a tie and
the routing of the gradient is unique.
"""

import pytest

from convgrader.judging.compare import assert_close, assert_unchanged, cache_from, unpack
from convgrader.judging.diagnostics import Context
from convgrader.judging.fixtures import over_cases


@pytest.mark.grades("max_pool_forward_naive")
@over_cases("pool")
def test_max_pool_forward_naive(impl, case):
    x = case["x"]
    out, _ = unpack(impl.max_pool_forward_naive(x, case.param("pool_param")), 2, "(out, cache)")
    assert_unchanged(x, case["x"], "x")
    assert_close(out, case["out"], "out", precision=x.dtype, context=Context.of(case))


@pytest.mark.grades("max_pool_backward_naive")
@over_cases("pool")
def test_max_pool_backward_naive(impl, case):
    x, dout = case["x"], case["dout"]
    cache = cache_from(impl.max_pool_forward_naive, x, case.param("pool_param"))
    dx = impl.max_pool_backward_naive(dout, cache)
    assert_unchanged(dout, case["dout"], "dout")
    context = Context.of(case, impl.max_pool_forward_naive, impl.max_pool_backward_naive)
    assert_close(dx, case["dx"], "dx", precision=x.dtype, context=context)
