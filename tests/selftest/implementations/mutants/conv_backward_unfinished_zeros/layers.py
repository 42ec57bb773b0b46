"""Convolution backward left unfinished: the gradients are allocated with np.zeros_like and
returned before the loops that fill them were written, so dx, dw and db are all zeros.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403

MUST_FAIL = ("conv_backward_naive",)
MAY_FAIL = ()
HINT = "unfinished"


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    db = np.zeros_like(b)
    # TODO: loop over the windows and accumulate the gradients
    return dx, dw, db
