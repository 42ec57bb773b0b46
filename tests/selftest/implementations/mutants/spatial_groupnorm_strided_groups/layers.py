"""Spatial group norm forward that groups channels c with the same c % G (reshape to
(N, C // G, G, H, W), statistics over axes 1, 3, 4) instead of G blocks of consecutive channels.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("spatial_groupnorm_forward",)
MAY_FAIL = ("spatial_groupnorm_backward",)
HINT = "axes"


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    N, C, H, W = x.shape
    eps = gn_param.get("eps", 1e-5)

    grouped = x.reshape(N, C // G, G, H, W)
    mean = grouped.mean(axis=(1, 3, 4), keepdims=True)
    inv_std = 1.0 / np.sqrt(grouped.var(axis=(1, 3, 4), keepdims=True) + eps)
    x_hat = ((grouped - mean) * inv_std).reshape(N, C, H, W)
    out = gamma * x_hat + beta
    # Laid out as the answer key's backward reads it: inv_std is (N, G, 1).
    return out, (x_hat, gamma, inv_std.reshape(N, -1, 1), G)
