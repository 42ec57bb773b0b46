"""Spatial group norm forward that normalizes through a reshaped view of x in place
(groups -= mean; groups *= inv_std): the output is right but the caller's x is overwritten.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("spatial_groupnorm_forward",)
MAY_FAIL = ("spatial_groupnorm_backward",)
HINT = "inplace"


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    N, C, H, W = x.shape
    eps = gn_param.get("eps", 1e-5)

    groups = x.reshape(N, G, -1)
    mean = groups.mean(axis=2, keepdims=True)
    inv_std = 1.0 / np.sqrt(groups.var(axis=2, keepdims=True) + eps)
    groups -= mean
    groups *= inv_std
    x_hat = groups.reshape(N, C, H, W)
    out = gamma * x_hat + beta
    # Laid out as the answer key's backward reads it: inv_std is (N, G, 1).
    return out, (x_hat, gamma, inv_std.reshape(N, -1, 1), G)
