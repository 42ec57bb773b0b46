"""Naive (the implementation under test) against the provided fast layers, on the seed's shapes.

``pytest --benchmark-only`` times each naive layer and its fast twin on the
notebook's inputs (rows 6 and 7 of the seed) and ends with one short table:
layer, naive, fast, how many times faster (``conftest.py`` prints it). A naive
function that is not implemented yet is skipped with "implement ... first",
not failed: benchmarks measure, they do not grade.

The naive side is timed over a few rounds only (``NAIVE_ROUNDS``): loop-style
code takes seconds per call here, and a median of three is plenty to tell 100x
from 1000x. The fast side gets pytest-benchmark's automatic calibration within
``FAST_MAX_TIME`` seconds.
"""

import numpy as np
import pytest

from reference import fast_layers

SEED_CONV = dict(x=(100, 3, 31, 31), w=(25, 3, 3, 3), conv_param={"stride": 2, "pad": 1})
SEED_POOL = dict(x=(100, 3, 32, 32), pool_param={"pool_height": 2, "pool_width": 2, "stride": 2})
#: The short table's footnote (what the inputs were) is the message ``bench_shapes``.

#: Timed calls of a naive function (after one untimed call): the median of these is reported.
NAIVE_ROUNDS = 3
#: Seconds pytest-benchmark may spend calibrating and timing one fast function.
FAST_MAX_TIME = 0.25

#: The graded layers timed here, in the order of the table.
LAYERS = ("conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive", "max_pool_backward_naive")


#: (implementation, side, forward name) -> (out, cache) of the forward benchmark, so that the
#: backward benchmark after it does not spend another call of seconds on the same input.
_forward_results = {}


class NotWritten(Exception):
    """The implementation under test has not written a function the timed call needs."""


def naive_function(impl, name):
    """The implementation's ``name``, called once on a tiny input to learn whether it is written."""
    function = impl.get(name)
    rng = np.random.RandomState(0)
    try:
        if name == "conv_forward_naive":
            function(rng.randn(1, 1, 3, 3), rng.randn(1, 1, 3, 3), np.zeros(1), {"stride": 1, "pad": 1})
        elif name == "max_pool_forward_naive":
            function(rng.randn(1, 1, 2, 2), {"pool_height": 2, "pool_width": 2, "stride": 2})
    except NotImplementedError:
        raise NotWritten(name) from None
    return function


def conv_inputs():
    rng = np.random.RandomState(231)
    x, w = rng.randn(*SEED_CONV["x"]), rng.randn(*SEED_CONV["w"])
    return x, w, rng.randn(w.shape[0]), dict(SEED_CONV["conv_param"])


def pool_inputs():
    return np.random.RandomState(231).randn(*SEED_POOL["x"]), dict(SEED_POOL["pool_param"])


def _backward_call(forward, backward, backward_name, inputs):
    """``(backward, (dout, cache))``, the cache from the same side's forward."""
    out, cache = forward(*inputs)
    dout = np.random.RandomState(1).randn(*np.shape(out))

    def timed(dout, cache):
        # The first timed round tells an unwritten backward, without an extra call of seconds.
        try:
            return backward(dout, cache)
        except NotImplementedError:
            raise NotWritten(backward_name) from None
    return timed, (dout, cache)


def timed_call(impl, layer, which):
    """``(function, args)``: what to time for ``layer`` on the ``which`` ("naive" or "fast") side."""
    def side(name):
        if which == "fast":
            return getattr(fast_layers, name.replace("naive", "fast"))
        return naive_function(impl, name) if name.endswith("forward_naive") else impl.get(name)

    if layer == "conv_forward_naive":
        return side(layer), conv_inputs()
    if layer == "max_pool_forward_naive":
        return side(layer), pool_inputs()
    forward_name = layer.replace("backward", "forward")
    earlier = _forward_results.get((id(impl), which, forward_name))
    inputs = conv_inputs() if layer == "conv_backward_naive" else pool_inputs()
    forward = (lambda *args: earlier) if earlier else side(forward_name)
    return _backward_call(forward, side(layer), layer, inputs)


@pytest.mark.parametrize("which", ["naive", "fast"])
@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.benchmark(max_time=FAST_MAX_TIME)
def test_bench_layer(benchmark, impl, layer, which):
    benchmark.group = layer
    try:
        function, args = timed_call(impl, layer, which)
        if which == "naive":
            result = benchmark.pedantic(function, args=args, rounds=NAIVE_ROUNDS, iterations=1)
        else:
            result = benchmark(function, *args)
    except NotWritten as missing:
        needs = f" (its cache feeds {layer})" if str(missing) != layer else ""
        pytest.skip(f"implement {missing} first{needs}")
    if layer.endswith("forward_naive"):
        _forward_results[(id(impl), which, layer)] = result
