"""Spatial batch norm backward that turns dout into rows with a plain ``reshape(-1, C)`` (and
back with ``reshape(N, C, H, W)``) without moving the channel axis last, so each "row" mixes
channels and the provided batchnorm_backward sees scrambled data.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403
from reference.layers import batchnorm_backward

MUST_FAIL = ("spatial_batchnorm_backward",)
MAY_FAIL = ()
HINT = "axes"


def spatial_batchnorm_backward(dout, cache):
    N, C, H, W = dout.shape
    dx_rows, dgamma, dbeta = batchnorm_backward(dout.reshape(-1, C), cache)
    return dx_rows.reshape(N, C, H, W), dgamma, dbeta
