"""Max pooling: max_pool_forward_naive and max_pool_backward_naive (seed rows 4-5).

Most inputs are drawn from a continuous distribution, where the routing of the
gradient is unique; the ``ties_*`` cases hold integer-valued images and ReLU
outputs, whose windows often hold several maxima. There SPEC's tie rule
applies: any routing of a window's upstream value to its maxima, in
non-negative fractions summing to one, is right (first, last, split evenly);
anything else, such as the whole value to every tied maximum, is wrong.
"""

import pytest

from convgrader.judging.compare import assert_close, assert_pool_gradient_close, assert_unchanged, cache_from, unpack
from convgrader.judging.diagnostics import Context
from convgrader.judging.fixtures import over_cases


@pytest.mark.grades("max_pool_forward_naive")
@over_cases("pool")
def test_max_pool_forward_naive(impl, case):
    x = case["x"]
    context = Context.of(case)
    out, _ = unpack(impl.max_pool_forward_naive(x, case.param("pool_param")), 2, "(out, cache)",
                    like=(case["out"], None), context=context)
    assert_unchanged(x, case["x"], "x")
    assert_close(out, case["out"], "out", precision=x.dtype, context=context)


@pytest.mark.grades("max_pool_backward_naive")
@over_cases("pool")
def test_max_pool_backward_naive(impl, case):
    x, dout = case["x"], case["dout"]
    cache = cache_from(impl.max_pool_forward_naive, x, case.param("pool_param"))
    dx = impl.max_pool_backward_naive(dout, cache)
    assert_unchanged(dout, case["dout"], "dout")
    context = Context.of(case, impl.max_pool_forward_naive, impl.max_pool_backward_naive)
    assert_pool_gradient_close(dx, case["dx"], case["x"], case["dout"], case.param("pool_param"),
                               precision=x.dtype, context=context)
