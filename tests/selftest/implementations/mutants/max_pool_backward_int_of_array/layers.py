"""Max-pool backward that finds the maximum with ``np.where(window == window.max())`` and
converts the one-element arrays it returns with ``int(...)``. NumPy 1.x allowed that (with a
DeprecationWarning since 1.25); NumPy 2 raises TypeError: only 0-dimensional arrays can be
converted to Python scalars.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("max_pool_backward_naive",)
MAY_FAIL = ()
HINT = "scalar"


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
                    rows, cols = np.where(window == window.max())
                    dx[n, c, i * stride + int(rows), j * stride + int(cols)] += dout[n, c, i, j]
    return dx
