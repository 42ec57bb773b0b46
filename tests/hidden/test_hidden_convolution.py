"""Hidden: conv_forward_naive and conv_backward_naive against the answer key, across the contract."""

import pytest

from answer_key import layers as key
from convgrader.judging.compare import assert_all_close, assert_close, cache_from, unpack
from convgrader.judging.diagnostics import Context
from tests.graded import test_properties as properties
from tests.graded.contract import HIDDEN, conv_cases, in_float64, property_test


def expected_conv(case):
    """The answer key's out and {dx, dw, db}, in float64."""
    out, cache = key.conv_forward_naive(*in_float64(case, "x", "w", "b"), case.param("conv_param"))
    return out, dict(zip(("dx", "dw", "db"), key.conv_backward_naive(*in_float64(case, "dout"), cache)))


@pytest.mark.grades("conv_forward_naive", weight=5)
@pytest.mark.twin_of.with_args(properties.test_conv_forward_naive_property)  # it replays that test on fresh examples
@property_test(conv_cases(), HIDDEN, shown=("x", "w", "b"))
def test_hidden_conv_forward_naive(impl, case):
    expected, _ = expected_conv(case)
    out, _ = unpack(impl.conv_forward_naive(case["x"], case["w"], case["b"], case.param("conv_param")),
                    2, "(out, cache)", like=(expected, None), context=Context.of(case))
    assert_close(out, expected, "out", precision=case["x"].dtype, context=Context.of(case))


@pytest.mark.grades("conv_backward_naive", weight=5)
@pytest.mark.twin_of.with_args(properties.test_conv_backward_naive_property)  # it replays that test on fresh examples
@property_test(conv_cases(), HIDDEN, shown=("x", "w", "dout"))
def test_hidden_conv_backward_naive(impl, case):
    _, expected = expected_conv(case)
    cache = cache_from(impl.conv_forward_naive, case["x"], case["w"], case["b"], case.param("conv_param"))
    context = Context.of(case, impl.conv_forward_naive, impl.conv_backward_naive)
    grads = unpack(impl.conv_backward_naive(case["dout"], cache), 3, "(dx, dw, db)",
                   like=(expected["dx"], expected["dw"], expected["db"]), context=context)
    assert_all_close(grads, expected, ("dx", "dw", "db"), precision=case["x"].dtype, context=context)
