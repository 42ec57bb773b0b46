"""Spatial group norm backward without the term through the group mean (the sum of dx_hat over the
group): only the term through the variance is subtracted.

Reads the answer key's cache (x_hat, gamma, inv_std of shape (N, G, 1), G).
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("spatial_groupnorm_backward",)
MAY_FAIL = ()
HINT = "logic"


def spatial_groupnorm_backward(dout, cache):
    x_hat, gamma, inv_std, G = cache
    N, C, H, W = dout.shape

    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3), keepdims=True)
    dx_hat = (dout * gamma).reshape(N, G, -1)
    x_hat = x_hat.reshape(N, G, -1)
    m = x_hat.shape[2]
    dx = inv_std / m * (m * dx_hat - x_hat * (dx_hat * x_hat).sum(axis=2, keepdims=True))
    return dx.reshape(N, C, H, W), dgamma, dbeta
