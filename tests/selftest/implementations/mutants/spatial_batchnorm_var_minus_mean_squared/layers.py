"""Spatial batch norm forward that mixes the two variance formulas, mean((x - mu)^2) - mu^2:
negative whenever |mu| exceeds the standard deviation, so the square root gives NaN.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("spatial_batchnorm_forward",)
MAY_FAIL = ("spatial_batchnorm_backward",)
HINT = "nan"


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, C, H, W = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(C, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(C, dtype=x.dtype))

    if mode == "train":
        mean = x.mean(axis=(0, 2, 3))
        var = ((x - mean.reshape(1, C, 1, 1)) ** 2).mean(axis=(0, 2, 3)) - mean ** 2
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        mean, var = running_mean, running_var
    else:
        raise ValueError(f"invalid mode {mode!r}")

    std = np.sqrt(var + eps)
    x_hat = (x - mean.reshape(1, C, 1, 1)) / std.reshape(1, C, 1, 1)
    out = gamma.reshape(1, C, 1, 1) * x_hat + beta.reshape(1, C, 1, 1)
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    # Pixels as rows, as the provided batchnorm_backward expects them.
    cache = (mode, x_hat.transpose(0, 2, 3, 1).reshape(-1, C), gamma, std)
    return out, cache
