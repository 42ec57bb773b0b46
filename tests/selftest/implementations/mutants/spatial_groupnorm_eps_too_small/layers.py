"""Spatial group norm forward with ``eps = 1e-8`` written in, where gn_param's eps (default
1e-5) belongs: visible when a group's variance is small or the test sets its own eps.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("spatial_groupnorm_forward",)
MAY_FAIL = ("spatial_groupnorm_backward",)
HINT = "scale"


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    N, C, H, W = x.shape
    eps = 1e-8

    groups = x.reshape(N, G, -1)
    mean = groups.mean(axis=2, keepdims=True)
    inv_std = 1.0 / np.sqrt(groups.var(axis=2, keepdims=True) + eps)
    x_hat = ((groups - mean) * inv_std).reshape(N, C, H, W)
    out = gamma * x_hat + beta
    return out, (x_hat, gamma, inv_std, G)
