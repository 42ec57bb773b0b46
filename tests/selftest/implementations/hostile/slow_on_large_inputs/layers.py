"""conv_forward_naive is right but takes half a minute on the notebook's large input: too slow, not hung."""
import time

from tests.selftest.implementations.vectorized import layers as _correct
from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("conv_forward_naive",)


def conv_forward_naive(x, w, b, conv_param):
    if x.size > 20_000:  # the naive-vs-fast input (10, 3, 31, 31); every other conv input is far smaller
        time.sleep(30)
    return _correct.conv_forward_naive(x, w, b, conv_param)
