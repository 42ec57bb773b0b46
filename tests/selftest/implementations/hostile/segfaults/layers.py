"""spatial_batchnorm_forward reads address 0 through ctypes: a segmentation fault."""
import ctypes

from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("spatial_batchnorm_forward", "spatial_batchnorm_backward")


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    return ctypes.string_at(0, 16)
