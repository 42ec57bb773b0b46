"""Spatial group norm forward that uses the unbiased variance (ddof=1) where the contract says the
biased one (np.var, divide by the count).
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("spatial_groupnorm_forward",)
MAY_FAIL = ("spatial_groupnorm_backward",)
HINT = "scale"


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    N, C, H, W = x.shape
    eps = gn_param.get("eps", 1e-5)

    groups = x.reshape(N, G, -1)
    mean = groups.mean(axis=2, keepdims=True)
    inv_std = 1.0 / np.sqrt(groups.var(axis=2, ddof=1, keepdims=True) + eps)
    x_hat = ((groups - mean) * inv_std).reshape(N, C, H, W)
    out = gamma * x_hat + beta
    # Laid out as the answer key's backward reads it: inv_std is (N, G, 1).
    return out, (x_hat, gamma, inv_std.reshape(N, -1, 1), G)
