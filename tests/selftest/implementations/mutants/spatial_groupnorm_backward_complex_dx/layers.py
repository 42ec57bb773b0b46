"""Spatial group norm backward that takes the inverse standard deviation as a complex power,
``(var + eps + 0j) ** -0.5``: dx comes back complex128 with the right real part and a zero
imaginary part, which is not the real gradient the contract asks for.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("spatial_groupnorm_backward",)
MAY_FAIL = ()
HINT = "dtype"


def spatial_groupnorm_backward(dout, cache):
    x_hat, gamma, inv_std, G = cache
    N, C, H, W = dout.shape
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3), keepdims=True)

    # Recover the group variance from inv_std, then invert it "safely" through complex numbers.
    var_plus_eps = 1.0 / inv_std ** 2
    scale = (var_plus_eps + 0j) ** -0.5
    g = (dout * gamma).reshape(N, G, -1)
    xh = x_hat.reshape(N, G, -1)
    dx = scale * (g - g.mean(axis=2, keepdims=True) - xh * (g * xh).mean(axis=2, keepdims=True))
    return dx.reshape(N, C, H, W), dgamma, dbeta
