"""Spatial batch norm backward with ``dgamma = sum(dout * x_hat, axis=0)``: summed over the
batch but not over H and W, so dgamma has shape (C, H, W) instead of (C,).

Reads the cache of the provided batchnorm_forward (mode, x_hat as rows, gamma, std).
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("spatial_batchnorm_backward",)
MAY_FAIL = ()
HINT = "axes"


def spatial_batchnorm_backward(dout, cache):
    mode, x_hat_rows, gamma, std = cache
    N, C, H, W = dout.shape
    x_hat = x_hat_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    gamma = gamma.reshape(1, C, 1, 1)
    inv_std = 1.0 / std.reshape(1, C, 1, 1)
    m = N * H * W

    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = inv_std / m * (m * dx_hat - dx_hat.sum(axis=(0, 2, 3), keepdims=True)
                        - x_hat * (dx_hat * x_hat).sum(axis=(0, 2, 3), keepdims=True))
    return dx, dgamma, dbeta
