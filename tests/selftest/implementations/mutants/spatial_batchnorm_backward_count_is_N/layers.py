"""Spatial batch norm backward that averages over N (the batch size) where the statistics were
taken over N * H * W values, so the two correction terms of dx are H * W times too large.

Reads the cache of the provided batchnorm_forward (mode, x_hat as rows, gamma, std).
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("spatial_batchnorm_backward",)
MAY_FAIL = ()
HINT = "scale"


def spatial_batchnorm_backward(dout, cache):
    mode, x_hat_rows, gamma, std = cache
    N, C, H, W = dout.shape
    x_hat = x_hat_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    gamma = gamma.reshape(1, C, 1, 1)
    inv_std = 1.0 / std.reshape(1, C, 1, 1)
    m = N * H * W

    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3))
    dx_hat = dout * gamma
    dx = inv_std / N * (N * dx_hat - dx_hat.sum(axis=(0, 2, 3), keepdims=True)
                        - x_hat * (dx_hat * x_hat).sum(axis=(0, 2, 3), keepdims=True))
    return dx, dgamma, dbeta
