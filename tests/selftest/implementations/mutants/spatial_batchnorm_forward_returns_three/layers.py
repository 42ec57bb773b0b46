"""Spatial batch norm forward that returns ``(out, cache, bn_param)``, handing back the updated
parameters "for convenience": the values are right, but the contract is the pair (out, cache)
and the caller's ``out, cache = ...`` fails.
"""
import numpy as np

from answer_key.layers import *  # noqa: F401,F403
from reference.layers import batchnorm_forward

MUST_FAIL = ("spatial_batchnorm_forward",)
MAY_FAIL = ("spatial_batchnorm_backward",)
HINT = "return"


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out_rows, cache = batchnorm_forward(rows, gamma, beta, bn_param)
    out = out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    return out, cache, bn_param
