"""Convolution forward written for Python 2, where ``/`` of two integers floors: the output size
``1 + (H + 2 * pad - HH) / stride`` is a float in Python 3, and ``np.zeros`` refuses it
(``TypeError: 'float' object cannot be interpreted as an integer``). The backward is correct, so
its tests, called with the conventional cache ``(x, w, b, conv_param)``, must give it full marks.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("conv_forward_naive",)
MAY_FAIL = ()
HINT = "output_shape"


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) / stride
    W_out = 1 + (W + 2 * pad - WW) / stride

    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)
