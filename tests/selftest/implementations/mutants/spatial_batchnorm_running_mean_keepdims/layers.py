"""Spatial batch norm forward that takes the statistics of the (N*H*W, C) pixel rows with
``keepdims=True``: the normalization is right, but the running averages it writes back into
bn_param become arrays of shape (1, C) instead of the (C,) of gamma and beta.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("spatial_batchnorm_forward",)
MAY_FAIL = ("spatial_batchnorm_backward",)
HINT = "output_shape"


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, C, H, W = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(C, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(C, dtype=x.dtype))

    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)
    if mode == "train":
        mean = rows.mean(axis=0, keepdims=True)
        var = rows.var(axis=0, keepdims=True)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        mean, var = running_mean, running_var
    else:
        raise ValueError(f"invalid mode {mode!r}")

    std = np.sqrt(var + eps).reshape(C)
    x_hat = (rows - mean.reshape(1, C)) / std
    out_rows = gamma * x_hat + beta
    out = out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    return out, (mode, x_hat, gamma, std)
