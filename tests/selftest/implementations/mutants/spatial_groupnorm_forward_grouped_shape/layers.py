"""Spatial group norm forward that normalizes in the grouped shape (N, G, C // G, H, W) and
returns it without reshaping back to (N, C, H, W): every value is right, the shape is not.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("spatial_groupnorm_forward",)
MAY_FAIL = ("spatial_groupnorm_backward",)
HINT = "output_shape"


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    N, C, H, W = x.shape
    eps = gn_param.get("eps", 1e-5)
    grouped = x.reshape(N, G, C // G, H, W)
    mean = grouped.mean(axis=(2, 3, 4), keepdims=True)
    inv_std = 1.0 / np.sqrt(grouped.var(axis=(2, 3, 4), keepdims=True) + eps)
    x_hat = (grouped - mean) * inv_std
    out = gamma.reshape(1, G, C // G, 1, 1) * x_hat + beta.reshape(1, G, C // G, 1, 1)
    # The answer key's backward reads this cache: x_hat in (N, C, H, W), inv_std per group.
    cache = (x_hat.reshape(N, C, H, W), gamma, inv_std.reshape(N, G, 1), G)
    return out, cache
