"""Max-pool backward that assigns (``dx[...] = dout[...]``) instead of adding: when windows
overlap and share a maximum, only the last window's gradient survives.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("max_pool_backward_naive",)
MAY_FAIL = ()
HINT = "accumulate"


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
                    p, q = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + p, j * stride + q] = dout[n, c, i, j]
    return dx
