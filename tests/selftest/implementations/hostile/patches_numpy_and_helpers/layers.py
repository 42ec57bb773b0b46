"""At import, make every comparison pass: numpy's and the harness's. Its layers return zeros.

Only the sandbox is patched, so no verdict may change: every layer test fails.
"""
import numpy as np
import numpy.testing

from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("conv_forward_naive", "max_pool_forward_naive")

np.allclose = lambda *args, **kwargs: True
np.abs = lambda value: 0 * np.asarray(value)
np.max = lambda *args, **kwargs: 0.0
numpy.testing.assert_allclose = lambda *args, **kwargs: None
try:
    import convgrader.judging.compare as _compare
    _compare.assert_close = lambda *args, **kwargs: None
    _compare.scaled_error = lambda *args, **kwargs: 0.0
except ImportError:
    pass


def conv_forward_naive(x, w, b, conv_param):
    n, f = x.shape[0], w.shape[0]
    return np.zeros((n, f, 1, 1)), None


def max_pool_forward_naive(x, pool_param):
    return np.zeros((1,)), None
