"""Imports what the assignment does not allow: scipy, fast_ext itself, the harness's own test implementations."""
import numpy as np
import scipy.signal

import fast_ext
from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("conv_forward_naive", "max_pool_forward_naive", "spatial_batchnorm_forward")


def conv_forward_naive(x, w, b, conv_param):
    """scipy does the convolution."""
    pad, stride = conv_param["pad"], conv_param["stride"]
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.stack([np.stack([scipy.signal.correlate(image, f, mode="valid")[0] for f in w]) for image in padded])
    out = out[:, :, ::stride, ::stride] + b[None, :, None, None]
    return out, (x, w, b, conv_param)


def max_pool_forward_naive(x, pool_param):
    """The compiled kernel, called directly."""
    out, _ = fast_ext.max_pool_forward(np.ascontiguousarray(x, dtype=np.float64), pool_param["pool_height"],
                                       pool_param["pool_width"], pool_param["stride"])
    return out, (x, pool_param)


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """The harness's own correct implementation, imported inside the function."""
    from tests.selftest.implementations.loops_float32 import layers as theirs
    return theirs.spatial_batchnorm_forward(x, gamma, beta, bn_param)
