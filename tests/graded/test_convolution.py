"""Convolution: conv_forward_naive and conv_backward_naive (seed rows 1-3)."""

import pytest

from convgrader.judging.compare import assert_all_close, assert_close, assert_unchanged, cache_from, unpack
from convgrader.judging.diagnostics import Context
from convgrader.judging.fixtures import over_cases


@pytest.mark.grades("conv_forward_naive")
@over_cases("conv")
def test_conv_forward_naive(impl, case):
    x, w, b = case["x"], case["w"], case["b"]
    context = Context.of(case)
    out, _ = unpack(impl.conv_forward_naive(x, w, b, case.param("conv_param")), 2, "(out, cache)",
                    like=(case["out"], None), context=context)
    for name, value in {"x": x, "w": w, "b": b}.items():
        assert_unchanged(value, case[name], name)
    assert_close(out, case["out"], "out", precision=x.dtype, context=context)


@pytest.mark.grades("conv_backward_naive")
@over_cases("conv", having=("dout",))
def test_conv_backward_naive(impl, case):
    x, dout = case["x"], case["dout"]
    cache = cache_from(impl.conv_forward_naive, x, case["w"], case["b"], case.param("conv_param"))
    context = Context.of(case, impl.conv_forward_naive, impl.conv_backward_naive)
    grads = unpack(impl.conv_backward_naive(dout, cache), 3, "(dx, dw, db)",
                   like=(case["dx"], case["dw"], case["db"]), context=context)
    assert_unchanged(dout, case["dout"], "dout")
    assert_all_close(grads, case, ("dx", "dw", "db"), precision=x.dtype, context=context)
