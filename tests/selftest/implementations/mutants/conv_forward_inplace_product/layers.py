"""Convolution forward that skips the copy when pad = 0 (``x_pad = x``) and forms the products
in place (``np.multiply(window, w[f], out=window)``), overwriting x_pad -- and x itself when
there is no padding -- so later filters and windows see damaged data.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("conv_forward_naive",)
MAY_FAIL = ("conv_backward_naive",)
HINT = "inplace"


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride

    # No padding, no copy needed.
    x_pad = x if pad == 0 else np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    # Avoid a temporary array per window.
                    np.multiply(window, w[f], out=window)
                    out[n, f, i, j] = window.sum() + b[f]
    return out, (x, w, b, conv_param)
