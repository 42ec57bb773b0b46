"""Sandwich layers: common stacks of layers behind one forward and one backward call.

The convolutional sandwiches run on the fast layers of ``reference.fast_layers``,
so importing this module needs the compiled ``fast_ext`` kernels.
"""

from reference.fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from reference.layers import affine_backward, affine_forward, relu_backward, relu_forward

__all__ = [
    "affine_relu_forward",
    "affine_relu_backward",
    "conv_relu_forward",
    "conv_relu_backward",
    "conv_relu_pool_forward",
    "conv_relu_pool_backward",
]


def affine_relu_forward(x, w, b):
    """Affine layer followed by a ReLU.

    Parameters
    ----------
    x : ndarray, (N, d_1, ..., d_k)
    w : ndarray, (D, M)
    b : ndarray, (M,)

    Returns
    -------
    out : ndarray, (N, M)
    cache : opaque, for :func:`affine_relu_backward`
    """
    scores, affine_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(scores)
    return out, (affine_cache, relu_cache)


def affine_relu_backward(dout, cache):
    """Gradients of :func:`affine_relu_forward`: returns ``(dx, dw, db)``."""
    affine_cache, relu_cache = cache
    dscores = relu_backward(dout, relu_cache)
    return affine_backward(dscores, affine_cache)


def conv_relu_forward(x, w, b, conv_param):
    """Convolution followed by a ReLU.

    Parameters
    ----------
    x : ndarray, (N, C, H, W)
    w : ndarray, (F, C, HH, WW)
    b : ndarray, (F,)
    conv_param : dict with ``stride`` and ``pad``

    Returns
    -------
    out : ndarray, (N, F, H', W')
    cache : opaque, for :func:`conv_relu_backward`
    """
    activations, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(activations)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout, cache, *, input_gradient=True):
    """Gradients of :func:`conv_relu_forward`: returns ``(dx, dw, db)``.

    ``input_gradient=False`` (keyword only) skips dx, returned as None: for a
    first layer, whose input is the data.
    """
    conv_cache, relu_cache = cache
    dactivations = relu_backward(dout, relu_cache)
    return conv_backward_fast(dactivations, conv_cache, input_gradient=input_gradient)


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """Convolution, ReLU, then max pooling.

    Parameters
    ----------
    x : ndarray, (N, C, H, W)
    w : ndarray, (F, C, HH, WW)
    b : ndarray, (F,)
    conv_param : dict with ``stride`` and ``pad``
    pool_param : dict with ``pool_height``, ``pool_width`` and ``stride``

    Returns
    -------
    out : ndarray, (N, F, H'', W'')
    cache : opaque, for :func:`conv_relu_pool_backward`
    """
    activations, conv_cache = conv_forward_fast(x, w, b, conv_param)
    rectified, relu_cache = relu_forward(activations)
    out, pool_cache = max_pool_forward_fast(rectified, pool_param)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout, cache, *, input_gradient=True):
    """Gradients of :func:`conv_relu_pool_forward`: returns ``(dx, dw, db)``.

    ``input_gradient=False`` (keyword only) skips dx, returned as None: for a
    first layer, whose input is the data.
    """
    conv_cache, relu_cache, pool_cache = cache
    drectified = max_pool_backward_fast(dout, pool_cache)
    dactivations = relu_backward(drectified, relu_cache)
    return conv_backward_fast(dactivations, conv_cache, input_gradient=input_gradient)
