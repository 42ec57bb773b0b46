"""A forward that computes its own result but calls the provided fast layer on the side.

The forward breaks the naive-means-naive rule and loses its tests; its backward,
honest, is graded on its own merits with the cache the forward made.
"""
from reference.fast_layers import conv_forward_fast
from tests.selftest.implementations.vectorized import layers as honest
from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("conv_forward_naive",)


def conv_forward_naive(x, w, b, conv_param):
    conv_forward_fast(x, w, b, conv_param)  # "to compare my answer"
    return honest.conv_forward_naive(x, w, b, conv_param)
