"""Convolution backward that forgets the padding: windows are cut from the unpadded x and the
gradient is written into dx directly, so with pad > 0 every window is shifted (and the last
ones are cut short).
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("conv_backward_naive",)
MAY_FAIL = ()
HINT = "padding"


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape

    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    db = np.sum(dout, axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dw[f] += dout[n, f, i, j] * x[n, :, rows, cols]
                    dx[n, :, rows, cols] += dout[n, f, i, j] * w[f]
    return dx, dw, db
