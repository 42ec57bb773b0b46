"""Naive (the implementation under test) against the provided fast layers, on the seed's shapes.

``pytest --benchmark-only`` prints one table per group; its ``Mean (...)``
columns show each member's time relative to the fastest, i.e. the speedup the
seed prints in rows 6 and 7. A naive function that is not implemented yet is
skipped, not failed: benchmarks measure, they do not grade.
"""

import numpy as np
import pytest

from reference import fast_layers

SEED_CONV = dict(x=(100, 3, 31, 31), w=(25, 3, 3, 3), conv_param={"stride": 2, "pad": 1})
SEED_POOL = dict(x=(100, 3, 32, 32), pool_param={"pool_height": 2, "pool_width": 2, "stride": 2})


def layer_pair(impl, which, name):
    """The naive function of the implementation under test, or the provided fast one."""
    if which == "fast":
        return getattr(fast_layers, name.replace("naive", "fast"))
    function = impl.get(name)
    try:
        probe_naive(name, function)
    except NotImplementedError:
        pytest.skip(f"implement {name} first")
    return function


def probe_naive(name, function):
    """Call ``function`` once on a tiny input, to learn whether it is implemented."""
    rng = np.random.RandomState(0)
    if name.startswith("conv_forward"):
        function(rng.randn(1, 1, 3, 3), rng.randn(1, 1, 3, 3), np.zeros(1), {"stride": 1, "pad": 1})
    elif name.startswith("max_pool_forward"):
        function(rng.randn(1, 1, 2, 2), {"pool_height": 2, "pool_width": 2, "stride": 2})


@pytest.fixture(scope="module")
def conv_inputs():
    rng = np.random.RandomState(231)
    x, w = rng.randn(*SEED_CONV["x"]), rng.randn(*SEED_CONV["w"])
    return x, w, rng.randn(w.shape[0])


@pytest.fixture(scope="module")
def pool_inputs():
    return np.random.RandomState(231).randn(*SEED_POOL["x"])


KINDS = pytest.mark.parametrize("which", ["naive", "fast"])


@KINDS
@pytest.mark.benchmark(group="conv_forward (x 100x3x31x31, w 25x3x3x3, stride 2, pad 1)")
def test_bench_conv_forward(benchmark, impl, which, conv_inputs):
    forward = layer_pair(impl, which, "conv_forward_naive")
    benchmark(forward, *conv_inputs, dict(SEED_CONV["conv_param"]))


@KINDS
@pytest.mark.benchmark(group="conv_backward (x 100x3x31x31, w 25x3x3x3, stride 2, pad 1)")
def test_bench_conv_backward(benchmark, impl, which, conv_inputs):
    forward = layer_pair(impl, which, "conv_forward_naive")
    backward = layer_pair(impl, which, "conv_backward_naive") if which == "fast" else impl.get("conv_backward_naive")
    out, cache = forward(*conv_inputs, dict(SEED_CONV["conv_param"]))
    dout = np.random.RandomState(1).randn(*np.shape(out))
    try:
        backward(dout, cache)
    except NotImplementedError:
        pytest.skip("implement conv_backward_naive first")
    benchmark(backward, dout, cache)


@KINDS
@pytest.mark.benchmark(group="max_pool_forward (x 100x3x32x32, 2x2, stride 2)")
def test_bench_max_pool_forward(benchmark, impl, which, pool_inputs):
    forward = layer_pair(impl, which, "max_pool_forward_naive")
    benchmark(forward, pool_inputs, dict(SEED_POOL["pool_param"]))


@KINDS
@pytest.mark.benchmark(group="max_pool_backward (x 100x3x32x32, 2x2, stride 2)")
def test_bench_max_pool_backward(benchmark, impl, which, pool_inputs):
    forward = layer_pair(impl, which, "max_pool_forward_naive")
    backward = fast_layers.max_pool_backward_fast if which == "fast" else impl.get("max_pool_backward_naive")
    out, cache = forward(pool_inputs, dict(SEED_POOL["pool_param"]))
    dout = np.random.RandomState(1).randn(*np.shape(out))
    try:
        backward(dout, cache)
    except NotImplementedError:
        pytest.skip("implement max_pool_backward_naive first")
    benchmark(backward, dout, cache)
