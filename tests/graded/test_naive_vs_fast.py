"""Naive layers against the provided fast layers on the seed's large inputs (rows 6-7).

The inputs are the seed's draws (same seed, same order), of which the tests keep the
first :data:`SAMPLES` samples and :data:`FILTERS` filters: the same odd 31 x 31 images,
stride 2 and pad 1 (the last window ends on the padding), the same three channels, and
batch, filter and channel counts that all differ, so an exchanged axis still fails. A
four-loop naive convolution runs N·F·H'·W' Python iterations, so the seed's 100 samples
and 25 filters (640,000 iterations, half a minute) made ``pytest -k conv_forward`` a
slow edit-and-test loop for no check the smaller batch lacks.

The seed prints the speedup too; that is reported by ``pytest --benchmark-only``,
not graded, since it measures the student's code against ours.
"""

import numpy as np
import pytest

from convgrader.judging.compare import assert_close, cache_from, fail, unpack
from convgrader.messages import say

# Loop-style naive code takes seconds on these inputs; allow it generously.
pytestmark = pytest.mark.timeout(300)

#: How many of the seed's samples and filters the comparisons keep (see the module's docstring).
SAMPLES, FILTERS = 10, 8
CONV_PARAM = {"stride": 2, "pad": 1}
POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}


@pytest.fixture(scope="module")
def fast_layers():
    """The provided fast layers; without the compiled kernels these tests fail saying how to build them."""
    try:
        from reference import fast_layers
    except ImportError as error:
        message = str(error)
    else:
        return fast_layers
    fail(say("fast_unavailable", message=message))


@pytest.fixture(scope="module")
def conv_inputs():
    """Row 6: x (100, 3, 31, 31), w (25, 3, 3, 3), stride 2, pad 1, as the seed draws them; the first
    SAMPLES samples and FILTERS filters kept."""
    rng = np.random.RandomState(231)
    x, w, b, dout = (rng.randn(100, 3, 31, 31), rng.randn(25, 3, 3, 3), rng.randn(25),
                     rng.randn(100, 25, 16, 16))
    return dict(x=x[:SAMPLES], w=w[:FILTERS], b=b[:FILTERS], dout=dout[:SAMPLES, :FILTERS])


@pytest.fixture(scope="module")
def pool_inputs():
    """Row 7: x (100, 3, 32, 32), 2x2 windows, stride 2, as the seed draws them; the first SAMPLES kept."""
    rng = np.random.RandomState(231)
    x, dout = rng.randn(100, 3, 32, 32), rng.randn(100, 3, 16, 16)
    return dict(x=x[:SAMPLES], dout=dout[:SAMPLES])


@pytest.mark.grades("conv_forward_naive")
def test_conv_forward_naive_agrees_with_fast(impl, fast_layers, conv_inputs):
    x, w, b = conv_inputs["x"], conv_inputs["w"], conv_inputs["b"]
    expected, _ = fast_layers.conv_forward_fast(x, w, b, dict(CONV_PARAM))
    out, _ = unpack(impl.conv_forward_naive(x.copy(), w.copy(), b.copy(), dict(CONV_PARAM)), 2, "(out, cache)",
                    like=(expected, None))
    assert_close(out, expected, "out")


@pytest.mark.grades("conv_backward_naive")
def test_conv_backward_naive_agrees_with_fast(impl, fast_layers, conv_inputs):
    x, w, b, dout = (conv_inputs[k].copy() for k in ("x", "w", "b", "dout"))
    _, fast_cache = fast_layers.conv_forward_fast(x, w, b, dict(CONV_PARAM))
    expected = fast_layers.conv_backward_fast(dout, fast_cache)
    cache = cache_from(impl.conv_forward_naive, x.copy(), w.copy(), b.copy(), dict(CONV_PARAM))
    grads = unpack(impl.conv_backward_naive(dout.copy(), cache), 3, "(dx, dw, db)", like=expected)
    for name, grad, want in zip(("dx", "dw", "db"), grads, expected):
        assert_close(grad, want, name)


@pytest.mark.grades("max_pool_forward_naive")
def test_max_pool_forward_naive_agrees_with_fast(impl, fast_layers, pool_inputs):
    x = pool_inputs["x"]
    expected, _ = fast_layers.max_pool_forward_fast(x.copy(), dict(POOL_PARAM))
    out, _ = unpack(impl.max_pool_forward_naive(x.copy(), dict(POOL_PARAM)), 2, "(out, cache)", like=(expected, None))
    assert_close(out, expected, "out")


@pytest.mark.grades("max_pool_backward_naive")
def test_max_pool_backward_naive_agrees_with_fast(impl, fast_layers, pool_inputs):
    x, dout = pool_inputs["x"], pool_inputs["dout"]
    _, fast_cache = fast_layers.max_pool_forward_fast(x.copy(), dict(POOL_PARAM))
    expected = fast_layers.max_pool_backward_fast(dout.copy(), fast_cache)
    cache = cache_from(impl.max_pool_forward_naive, x.copy(), dict(POOL_PARAM))
    assert_close(impl.max_pool_backward_naive(dout.copy(), cache), expected, "dx")
