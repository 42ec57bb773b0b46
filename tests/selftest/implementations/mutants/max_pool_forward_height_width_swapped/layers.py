"""Max-pool forward that reads pool_height as the window's width and pool_width as its height:
right for square windows only.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("max_pool_forward_naive",)
MAY_FAIL = ("max_pool_backward_naive",)
HINT = "axes"


def max_pool_forward_naive(x, pool_param):
    pw, ph, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride

    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + ph)
                    cols = slice(j * stride, j * stride + pw)
                    out[n, c, i, j] = np.max(x[n, c, rows, cols])
    return out, (x, pool_param)
