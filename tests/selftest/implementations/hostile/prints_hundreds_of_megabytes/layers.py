"""conv_forward_naive prints 300 MB of debugging output, then returns the right answer."""
import sys

from tests.selftest.implementations.vectorized import layers as _key
from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ()


def conv_forward_naive(x, w, b, conv_param):
    line = "debug " * 170 + "\n"
    for _ in range(300):
        sys.stdout.write(line * 1000)
    return _key.conv_forward_naive(x, w, b, conv_param)
