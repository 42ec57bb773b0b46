"""max_pool_backward_naive ends its process with status 0, as if all went well."""
import os

from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("max_pool_backward_naive",)


def max_pool_backward_naive(dout, cache):
    os._exit(0)
