"""A dishonest submission: every graded layer answers from a table of the visible tests' outputs.

Nothing is computed. A call whose arguments are in the table (``table.py``)
gets the recorded answer, including what a train-mode batch norm writes into
bn_param; any other call gets zeros of the right shape. The cache names the
forward call, so a backward finds its recorded gradients. It exists for
``tests/selftest/test_grade_of_record.py``: with ``--hidden`` it must score 0
on every part, although it passes the visible tests.
"""

import numpy as np

from .table import key_of, load

CALLS, LABELS = load()


def _forward(name, arguments, zeros, param=None):
    key = key_of(name, *arguments)
    answer = CALLS.get(key)
    if answer is None:
        return zeros, (key, None)
    out, param_after = answer
    if param is not None and param_after:
        param.update({k: np.array(v) for k, v in param_after.items()})
    return np.array(out), (key, None)


def _backward(name, dout, cache, zeros):
    answer = CALLS.get(key_of(name, cache[0], dout))
    return tuple(np.array(a) for a in answer) if answer is not None else zeros


def _positions(size, window, stride, pad=0):
    return 1 + (size + 2 * pad - window) // stride


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    shape = (x.shape[0], w.shape[0], _positions(x.shape[2], w.shape[2], stride, pad),
             _positions(x.shape[3], w.shape[3], stride, pad))
    out, cache = _forward("conv_forward_naive", (x, w, b, conv_param), np.zeros(shape))
    return out, (cache[0], (x.shape, w.shape, b.shape))


def conv_backward_naive(dout, cache):
    return _backward("conv_backward_naive", dout, cache, tuple(np.zeros(s) for s in cache[1]))


def max_pool_forward_naive(x, pool_param):
    stride = pool_param["stride"]
    shape = x.shape[:2] + (_positions(x.shape[2], pool_param["pool_height"], stride),
                           _positions(x.shape[3], pool_param["pool_width"], stride))
    out, cache = _forward("max_pool_forward_naive", (x, pool_param), np.zeros(shape))
    return out, (cache[0], x.shape)


def max_pool_backward_naive(dout, cache):
    answer = _backward("max_pool_backward_naive", dout, cache, None)
    return answer[0] if answer is not None else np.zeros(cache[1])


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    out, cache = _forward("spatial_batchnorm_forward", (x, gamma, beta, bn_param), np.zeros(x.shape), bn_param)
    return out, (cache[0], (x.shape, gamma.shape, beta.shape))


def spatial_batchnorm_backward(dout, cache):
    return _backward("spatial_batchnorm_backward", dout, cache, tuple(np.zeros(s) for s in cache[1]))


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    out, cache = _forward("spatial_groupnorm_forward", (x, gamma, beta, G, gn_param), np.zeros(x.shape))
    return out, (cache[0], (x.shape, gamma.shape, beta.shape))


def spatial_groupnorm_backward(dout, cache):
    return _backward("spatial_groupnorm_backward", dout, cache, tuple(np.zeros(s) for s in cache[1]))
