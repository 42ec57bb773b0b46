"""conv_backward_naive calls sys.exit(3)."""
import sys

from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("conv_backward_naive",)


def conv_backward_naive(dout, cache):
    sys.exit(3)
