"""Spatial group norm backward that takes the correction sums over the whole sample (reshape to
(N, -1)) instead of over each group: right for G = 1 only.

Reads the answer key's cache (x_hat, gamma, inv_std of shape (N, G, 1), G).
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("spatial_groupnorm_backward",)
MAY_FAIL = ()
HINT = "axes"


def spatial_groupnorm_backward(dout, cache):
    x_hat, gamma, inv_std, G = cache
    N, C, H, W = dout.shape

    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3), keepdims=True)
    dx_hat = (dout * gamma).reshape(N, -1)
    x_hat = x_hat.reshape(N, -1)
    m = x_hat.shape[1]
    inv_std = np.repeat(inv_std.reshape(N, G), m // G, axis=1)
    dx = inv_std / m * (m * dx_hat - dx_hat.sum(axis=1, keepdims=True)
                        - x_hat * (dx_hat * x_hat).sum(axis=1, keepdims=True))
    return dx.reshape(N, C, H, W), dgamma, dbeta
