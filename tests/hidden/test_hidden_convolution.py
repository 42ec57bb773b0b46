"""Hidden: conv_forward_naive and conv_backward_naive on random shapes, strides and pads."""

import pytest

from convgrader.judging.compare import assert_close, cache_from, unpack
from answer_key import layers as key
from tests.hidden.cases import dims, dtype_of, fitting_size, in_float64, make_case, random_cases


def draw_conv(rng, index):
    """x (N, C, H, W), w (F, C, HH, WW) with non-square kernels, stride 1-3, pad 0-3.

    Stride and pad cycle with the case number, so every test sees strides 1, 2, 3
    and pads 0 (where a hand-made ``pad:-pad`` slice breaks) to 3.
    """
    dtype = dtype_of(index)
    stride, pad = 1 + index % 3, index % 4
    n, c, f = (int(v) for v in rng.integers(1, 5, size=3))
    kh, kw = (int(v) for v in rng.integers(1, 6, size=2))
    h, w = fitting_size(rng, kh, stride, pad), fitting_size(rng, kw, stride, pad)
    out_shape = (n, f, 1 + (h + 2 * pad - kh) // stride, 1 + (w + 2 * pad - kw) // stride)
    arrays = dict(x=rng.standard_normal((n, c, h, w)), w=rng.standard_normal((f, c, kh, kw)),
                  b=rng.standard_normal(f), dout=rng.standard_normal(out_shape))
    name = f"case{index}-{dtype.name}-x{dims((n, c, h, w))}-w{dims((f, c, kh, kw))}-stride{stride}-pad{pad}"
    return make_case("conv", name, arrays, {"conv_param": {"stride": stride, "pad": pad}}, dtype)


def expected_conv(case):
    """The answer key's out and (dx, dw, db), in float64."""
    out, cache = key.conv_forward_naive(*in_float64(case["x"], case["w"], case["b"]), case.param("conv_param"))
    return out, key.conv_backward_naive(*in_float64(case["dout"]), cache)


@pytest.mark.grades("conv_forward_naive")
@random_cases(draw_conv)
def test_hidden_conv_forward_naive(impl, case):
    x = case["x"]
    expected, _ = expected_conv(case)
    out, _ = unpack(impl.conv_forward_naive(x, case["w"], case["b"], case.param("conv_param")), 2, "(out, cache)")
    assert_close(out, expected, "out", precision=x.dtype)


@pytest.mark.grades("conv_backward_naive")
@random_cases(draw_conv)
def test_hidden_conv_backward_naive(impl, case):
    x = case["x"]
    _, expected = expected_conv(case)
    cache = cache_from(impl.conv_forward_naive, x, case["w"], case["b"], case.param("conv_param"))
    grads = unpack(impl.conv_backward_naive(case["dout"], cache), 3, "(dx, dw, db)")
    for name, grad, want in zip(("dx", "dw", "db"), grads, expected):
        assert_close(grad, want, name, precision=x.dtype)
