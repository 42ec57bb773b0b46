"""What the cheater's author runs at home: the answer key, recording every call's answer for the table.

Graded as an implementation (``pytest tests/graded --impl=<this folder>``, in
process) with ``CHEATER_TABLE`` naming the file to write, it answers like the
answer key and, at exit, writes the table ``table.py`` reads.
"""

import atexit
import copy
import importlib.util
import os
import pickle
from pathlib import Path

from answer_key import layers as key

_spec = importlib.util.spec_from_file_location("cheater_table", Path(__file__).resolve().parents[1] / "table.py")
table = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(table)

CALLS, LABELS = {}, {}
#: Loss calls with more parameters than this (the training runs) are not kept: their digits' labels are.
LARGEST_RECORDED_MODEL = 200_000


def _write():
    with open(os.environ["CHEATER_TABLE"], "wb") as file:
        pickle.dump((CALLS, LABELS), file)


if os.environ.get("CHEATER_TABLE"):
    atexit.register(_write)


def _forward(name, arguments, param=None):
    call_key = table.key_of(name, *copy.deepcopy(arguments))
    out, cache = getattr(key, name)(*arguments)
    kept = {k: param[k].copy() for k in ("running_mean", "running_var") if k in param} if param else None
    CALLS[call_key] = (out.copy(), kept)
    return out, (call_key, cache)


def _backward(name, dout, cache):
    call_key, real_cache = cache
    grads = getattr(key, name)(dout, real_cache)
    CALLS[table.key_of(name, call_key, dout)] = grads if isinstance(grads, tuple) else (grads,)
    return grads


def conv_forward_naive(x, w, b, conv_param):
    return _forward("conv_forward_naive", (x, w, b, conv_param))


def conv_backward_naive(dout, cache):
    return _backward("conv_backward_naive", dout, cache)


def max_pool_forward_naive(x, pool_param):
    return _forward("max_pool_forward_naive", (x, pool_param))


def max_pool_backward_naive(dout, cache):
    return _backward("max_pool_backward_naive", dout, cache)


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    return _forward("spatial_batchnorm_forward", (x, gamma, beta, bn_param), bn_param)


def spatial_batchnorm_backward(dout, cache):
    return _backward("spatial_batchnorm_backward", dout, cache)


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    return _forward("spatial_groupnorm_forward", (x, gamma, beta, G, gn_param))


def spatial_groupnorm_backward(dout, cache):
    return _backward("spatial_groupnorm_backward", dout, cache)
