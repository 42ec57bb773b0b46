"""Spatial batch norm backward that treats the batch mean and variance as constants,
dx = dout * gamma / std, as in test mode: the two terms through the statistics are missing.

Reads the cache of the provided batchnorm_forward (mode, x_hat as rows, gamma, std).
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("spatial_batchnorm_backward",)
MAY_FAIL = ()
HINT = "logic"


def spatial_batchnorm_backward(dout, cache):
    mode, x_hat_rows, gamma, std = cache
    N, C, H, W = dout.shape
    x_hat = x_hat_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    gamma = gamma.reshape(1, C, 1, 1)
    inv_std = 1.0 / std.reshape(1, C, 1, 1)

    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3))
    dx = dout * gamma * inv_std
    return dx, dgamma, dbeta
