"""conv_forward_naive prints the environment it runs in (a CI token would show in the report). Honest code."""
import os

from tests.selftest.implementations.vectorized import layers as _honest
from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ()


def conv_forward_naive(x, w, b, conv_param):
    print(dict(os.environ))
    return _honest.conv_forward_naive(x, w, b, conv_param)
