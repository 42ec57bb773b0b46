"""Max-pool forward that starts each running maximum at NaN instead of -inf and updates it with
``np.maximum``, which propagates NaN: every output is NaN.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("max_pool_forward_naive",)
MAY_FAIL = ("max_pool_backward_naive",)
HINT = "nan"


def max_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride

    # Running maximum over the window offsets, one (N, C, H', W') plane per offset.
    out = np.full((N, C, H_out, W_out), np.nan, dtype=x.dtype)
    for p in range(ph):
        for q in range(pw):
            shifted = x[:, :, p:p + stride * (H_out - 1) + 1:stride, q:q + stride * (W_out - 1) + 1:stride]
            out = np.maximum(out, shifted)
    return out, (x, pool_param)
