"""Hidden: max_pool_forward_naive and max_pool_backward_naive on random windows and strides.

Windows of 1-4 by 1-4 (never 1x1) with stride 1-3, cycling with the case
number: stride 1 overlaps, larger strides touch, overlap or leave gaps.
Every input holds distinct values, so no window holds a tie and the routing of
the gradient is unique.
"""

import numpy as np
import pytest

from convgrader.judging.compare import assert_close, cache_from, unpack
from answer_key import layers as key
from tests.hidden.cases import dims, dtype_of, fitting_size, in_float64, make_case, random_cases


def draw_pool(rng, index):
    dtype = dtype_of(index)
    ph, pw = (int(v) for v in rng.integers(1, 5, size=2))
    ph = max(ph, 2) if pw == 1 else ph
    stride = 1 + index % 3
    n, c = (int(v) for v in rng.integers(1, 5, size=2))
    h, w = fitting_size(rng, ph, stride), fitting_size(rng, pw, stride)
    shape = (n, c, h, w)
    # A shuffled grid with steps of 1/64, which float32 represents exactly: no ties.
    x = rng.permutation(np.arange(n * c * h * w) - n * c * h * w / 2).reshape(shape) / 64
    dout = rng.standard_normal((n, c, 1 + (h - ph) // stride, 1 + (w - pw) // stride))
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    name = f"case{index}-{dtype.name}-x{dims(shape)}-pool{ph}x{pw}-stride{stride}"
    return make_case("pool", name, dict(x=x, dout=dout), {"pool_param": pool_param}, dtype)


def expected_pool(case):
    """The answer key's out and dx, in float64."""
    out, cache = key.max_pool_forward_naive(*in_float64(case["x"]), case.param("pool_param"))
    return out, key.max_pool_backward_naive(*in_float64(case["dout"]), cache)


@pytest.mark.grades("max_pool_forward_naive")
@random_cases(draw_pool)
def test_hidden_max_pool_forward_naive(impl, case):
    x = case["x"]
    expected, _ = expected_pool(case)
    out, _ = unpack(impl.max_pool_forward_naive(x, case.param("pool_param")), 2, "(out, cache)")
    assert_close(out, expected, "out", precision=x.dtype)


@pytest.mark.grades("max_pool_backward_naive")
@random_cases(draw_pool)
def test_hidden_max_pool_backward_naive(impl, case):
    x = case["x"]
    _, expected = expected_pool(case)
    cache = cache_from(impl.max_pool_forward_naive, x, case.param("pool_param"))
    dx = impl.max_pool_backward_naive(case["dout"], cache)
    assert_close(dx, expected, "dx", precision=x.dtype)
