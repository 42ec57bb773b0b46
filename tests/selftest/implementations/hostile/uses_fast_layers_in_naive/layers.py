"""The naive functions hand their work to the provided fast layers, by every obvious route."""
import importlib

from reference.fast_layers import conv_forward_fast
from reference import layer_utils
from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("conv_forward_naive", "max_pool_backward_naive")

# Aliased at import time, before any graded call.
conv_forward_naive = conv_forward_fast


def max_pool_backward_naive(dout, cache):
    """A fast forward and the fast backward, through importlib and the sandwich module's copies of the names."""
    x, (pool_height, pool_width), stride = cache
    pool_param = {"pool_height": pool_height, "pool_width": pool_width, "stride": stride}
    fast = importlib.import_module("reference.fast_layers")
    _, fast_cache = fast.max_pool_forward_fast(x, pool_param)
    return layer_utils.max_pool_backward_fast(dout, fast_cache)
