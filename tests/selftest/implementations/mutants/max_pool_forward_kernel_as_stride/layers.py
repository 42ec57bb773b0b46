"""Max-pool forward that moves the window by its own size (``i * pool_height``) instead of by
the stride: right only when stride equals the window size.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("max_pool_forward_naive",)
MAY_FAIL = ("max_pool_backward_naive",)
HINT = "stride"


def max_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride

    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.max(x[n, c, i * ph:i * ph + ph, j * pw:j * pw + pw])
    return out, (x, pool_param)
