"""Spatial group norm backward that sums dgamma and dbeta over (0, 2, 3) without keepdims: shape
(C,) instead of the (1, C, 1, 1) of gamma and beta.

Reads the answer key's cache (x_hat, gamma, inv_std of shape (N, G, 1), G).
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("spatial_groupnorm_backward",)
MAY_FAIL = ()
HINT = "output_shape"


def spatial_groupnorm_backward(dout, cache):
    x_hat, gamma, inv_std, G = cache
    N, C, H, W = dout.shape

    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3))
    dx_hat = (dout * gamma).reshape(N, G, -1)
    x_hat = x_hat.reshape(N, G, -1)
    m = x_hat.shape[2]
    dx = inv_std / m * (m * dx_hat - dx_hat.sum(axis=2, keepdims=True)
                        - x_hat * (dx_hat * x_hat).sum(axis=2, keepdims=True))
    return dx.reshape(N, C, H, W), dgamma, dbeta
