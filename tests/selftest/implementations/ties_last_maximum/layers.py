"""A correct max-pool backward that routes a tied window's gradient to its LAST maximum.

SPEC's tie rule accepts any maximum; the answer key and the fast layers take the first in
row-major order. Everything else is the answer key's. This must score full marks.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    _, _, H_out, W_out = dout.shape

    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    # argmax of the reversed window is the last maximum of the window.
                    last = window.size - 1 - int(np.argmax(window.ravel()[::-1]))
                    row, col = divmod(last, pw)
                    dx[n, c, i * stride + row, j * stride + col] += dout[n, c, i, j]
    return dx
