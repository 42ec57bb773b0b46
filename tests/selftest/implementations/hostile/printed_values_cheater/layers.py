"""A dishonest submission that hard-codes the notebook's printed answers.

The notebook checks ``conv_forward_naive`` and ``max_pool_forward_naive`` on
fixed ``linspace`` inputs and prints the ``correct_out`` they must produce.
This "implementation" recognizes those inputs and returns the printed arrays;
on any other input every function returns zeros of the right shape.

It exists for ``tests/selftest/test_hidden.py``: it passes the visible tests
of the notebook's own inputs and must fail every hidden test.
"""
import numpy as np

# The notebook's printed correct_out of the convolution (x (2, 3, 4, 4), w (3, 3, 4, 4), stride 2, pad 1).
PRINTED_CONV_OUT = np.array([
    [[[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
     [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
     [[0.50813986, 0.54309974], [0.64082444, 0.67101435]]],
    [[[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
     [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
     [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]]])

# The notebook's printed correct_out of the pooling (x (2, 3, 4, 4), 2x2 windows, stride 2).
PRINTED_POOL_OUT = np.array([
    [[[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
     [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
     [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]]],
    [[[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
     [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
     [[0.32631579, 0.34105263], [0.38526316, 0.4]]]])


def _linspace(shape, low, high):
    return np.linspace(low, high, num=int(np.prod(shape))).reshape(shape)


def _is(given, expected):
    given = np.asarray(given)
    return given.shape == expected.shape and np.allclose(given, expected)


def _positions(size, window, stride, pad=0):
    return 1 + (size + 2 * pad - window) // stride


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    cache = (x.shape, w.shape, b.shape)
    if (_is(x, _linspace((2, 3, 4, 4), -0.1, 0.5)) and _is(w, _linspace((3, 3, 4, 4), -0.2, 0.3))
            and _is(b, np.linspace(-0.1, 0.2, num=3)) and (stride, pad) == (2, 1)):
        return PRINTED_CONV_OUT.copy(), cache
    out_shape = (x.shape[0], w.shape[0], _positions(x.shape[2], w.shape[2], stride, pad),
                 _positions(x.shape[3], w.shape[3], stride, pad))
    return np.zeros(out_shape), cache


def conv_backward_naive(dout, cache):
    return tuple(np.zeros(shape) for shape in cache)


def max_pool_forward_naive(x, pool_param):
    height, width, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    if _is(x, _linspace((2, 3, 4, 4), -0.3, 0.4)) and (height, width, stride) == (2, 2, 2):
        return PRINTED_POOL_OUT.copy(), x.shape
    out_shape = x.shape[:2] + (_positions(x.shape[2], height, stride), _positions(x.shape[3], width, stride))
    return np.zeros(out_shape), x.shape


def max_pool_backward_naive(dout, cache):
    return np.zeros(cache)


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    return np.zeros(x.shape), (x.shape, gamma.shape, beta.shape)


def spatial_batchnorm_backward(dout, cache):
    return tuple(np.zeros(shape) for shape in cache)


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    return np.zeros(x.shape), (x.shape, gamma.shape, beta.shape)


def spatial_groupnorm_backward(dout, cache):
    return tuple(np.zeros(shape) for shape in cache)
