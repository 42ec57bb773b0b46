"""Spatial batch norm forward that normalizes with the batch's own statistics in test mode too:
the running averages are kept up to date but never used.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("spatial_batchnorm_forward",)
MAY_FAIL = ("spatial_batchnorm_backward",)
HINT = "logic"


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, C, H, W = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(C, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(C, dtype=x.dtype))

    mean = x.mean(axis=(0, 2, 3))
    var = x.var(axis=(0, 2, 3))
    if mode == "train":
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode != "test":
        raise ValueError(f"invalid mode {mode!r}")

    std = np.sqrt(var + eps)
    x_hat = (x - mean.reshape(1, C, 1, 1)) / std.reshape(1, C, 1, 1)
    out = gamma.reshape(1, C, 1, 1) * x_hat + beta.reshape(1, C, 1, 1)
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    # Pixels as rows, as the provided batchnorm_backward expects them.
    cache = (mode, x_hat.transpose(0, 2, 3, 1).reshape(-1, C), gamma, std)
    return out, cache
