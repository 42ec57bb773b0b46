"""The provided fast layers beat the answer key's naive layers at least 10x (seed rows 6-7).

Both are timed in this one process, interleaved, and compared by the ratio of
their medians: a ratio, never an absolute time, since this machine is shared.
"""

import statistics
import time

import numpy as np
import pytest

from reference import fast_layers
from answer_key import layers as naive

REQUIRED_SPEEDUP = 10
ROUNDS = 5


def median_ratio(slow, fast, rounds=ROUNDS):
    """Median time of ``slow()`` over median time of ``fast()``, measured alternately."""
    times = {slow: [], fast: []}
    for _ in range(rounds):
        for run in (slow, fast):
            start = time.perf_counter()
            run()
            times[run].append(time.perf_counter() - start)
    return statistics.median(times[slow]) / statistics.median(times[fast])


def forward_backward(forward, backward, inputs, param):
    def run():
        out, cache = forward(*inputs, dict(param))
        backward(np.ones_like(out), cache)
    return run


@pytest.fixture(scope="module")
def rng():
    return np.random.RandomState(231)


def test_fast_convolution_is_10x_faster_than_naive(rng):
    inputs = (rng.randn(100, 3, 31, 31), rng.randn(25, 3, 3, 3), rng.randn(25))
    param = {"stride": 2, "pad": 1}
    ratio = median_ratio(forward_backward(naive.conv_forward_naive, naive.conv_backward_naive, inputs, param),
                         forward_backward(fast_layers.conv_forward_fast, fast_layers.conv_backward_fast,
                                          inputs, param))
    assert ratio >= REQUIRED_SPEEDUP, f"conv fast is only {ratio:.1f}x faster than naive"


def test_fast_max_pooling_is_10x_faster_than_naive(rng):
    inputs = (rng.randn(100, 3, 32, 32),)
    param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    ratio = median_ratio(forward_backward(naive.max_pool_forward_naive, naive.max_pool_backward_naive,
                                          inputs, param),
                         forward_backward(fast_layers.max_pool_forward_fast, fast_layers.max_pool_backward_fast,
                                          inputs, param))
    assert ratio >= REQUIRED_SPEEDUP, f"max pool fast is only {ratio:.1f}x faster than naive"
