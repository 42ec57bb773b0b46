"""Max-pool backward that routes with the mask ``window == window.max()``: right when a window
has one maximum, but a window with tied maxima gives its whole upstream value to every one of
them, so the gradient of that window is counted several times.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("max_pool_backward_naive",)
MAY_FAIL = ()
HINT = "logic"


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
                    rows = slice(i * stride, i * stride + ph)
                    cols = slice(j * stride, j * stride + pw)
                    window = x[n, c, rows, cols]
                    mask = window == np.max(window)
                    dx[n, c, rows, cols] += mask * dout[n, c, i, j]
    return dx
