"""Convolutional-network layers written with whole-array numpy operations.

A self-test implementation of the graded API: every layer works on window
views of its input (``sliding_window_view``) and contracts them with
``tensordot``/``einsum``; no Python loop runs over output positions.
Computation keeps the dtype numpy promotes the inputs to (float64 in the
notebook), which makes this implementation the high-precision one.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _output_length(size, window, stride):
    """Number of window positions along one axis (exact division in tests)."""
    return 1 + (size - window) // stride


def _strided_windows(x, window_hw, stride):
    """Windows of the two last axes of x, taken every `stride` positions.

    Parameters
    ----------
    x : (N, C, H, W) array
    window_hw : (hh, ww) window size
    stride : int

    Returns
    -------
    windows : (N, C, H', W', hh, ww) read-only view of x
    """
    all_windows = sliding_window_view(x, window_hw, axis=(2, 3))
    return all_windows[:, :, ::stride, ::stride]


def _scatter_windows(window_grads, input_shape, stride):
    """Add every window's gradient back onto the input grid it was cut from.

    The inverse of `_strided_windows`: one vectorized addition per offset
    (k, l) inside the window, so overlapping windows accumulate correctly.

    Parameters
    ----------
    window_grads : (N, C, H', W', hh, ww) array
    input_shape : (N, C, H, W) shape of the array the windows were cut from
    stride : int

    Returns
    -------
    grad : (N, C, H, W) array
    """
    _, _, out_h, out_w, hh, ww = window_grads.shape
    grad = np.zeros(input_shape, dtype=window_grads.dtype)
    for k in range(hh):
        for l in range(ww):
            rows = slice(k, k + stride * (out_h - 1) + 1, stride)
            cols = slice(l, l + stride * (out_w - 1) + 1, stride)
            grad[:, :, rows, cols] += window_grads[:, :, :, :, k, l]
    return grad


def conv_forward_naive(x, w, b, conv_param):
    """Convolution (cross-correlation) with zero padding and a stride.

    Parameters
    ----------
    x : (N, C, H, W) input images
    w : (F, C, HH, WW) filters
    b : (F,) biases
    conv_param : dict with 'stride' and 'pad'

    Returns
    -------
    out : (N, F, H', W'), H' = 1 + (H + 2 pad - HH) // stride
    cache : opaque, for conv_backward_naive
    """
    stride, pad = conv_param['stride'], conv_param['pad']
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = _strided_windows(x_padded, w.shape[2:], stride)
    # Contract channels and the window against each filter: (N, H', W', F).
    out = np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3]))
    out = out.transpose(0, 3, 1, 2) + b[None, :, None, None]
    cache = (x_padded, w, stride, pad)
    return out, cache


def conv_backward_naive(dout, cache):
    """Gradients of conv_forward_naive.

    Parameters
    ----------
    dout : (N, F, H', W') upstream gradient
    cache : from conv_forward_naive

    Returns
    -------
    dx : (N, C, H, W), dw : (F, C, HH, WW), db : (F,)
    """
    x_padded, w, stride, pad = cache
    windows = _strided_windows(x_padded, w.shape[2:], stride)
    db = dout.sum(axis=(0, 2, 3))
    dw = np.tensordot(dout, windows, axes=([0, 2, 3], [0, 2, 3]))
    # Each output position sends dout * w back to the window it read.
    window_grads = np.einsum('nfhw,fckl->nchwkl', dout, w)
    dx_padded = _scatter_windows(window_grads, x_padded.shape, stride)
    height, width = x_padded.shape[2] - 2 * pad, x_padded.shape[3] - 2 * pad
    dx = dx_padded[:, :, pad:pad + height, pad:pad + width]
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    """Max pooling over (pool_height, pool_width) windows, no padding.

    Parameters
    ----------
    x : (N, C, H, W)
    pool_param : dict with 'pool_height', 'pool_width', 'stride'

    Returns
    -------
    out : (N, C, H', W'), H' = 1 + (H - pool_height) // stride
    cache : opaque, for max_pool_backward_naive
    """
    window_hw = (pool_param['pool_height'], pool_param['pool_width'])
    stride = pool_param['stride']
    out = _strided_windows(x, window_hw, stride).max(axis=(4, 5))
    cache = (x, window_hw, stride)
    return out, cache


def max_pool_backward_naive(dout, cache):
    """Gradient of max pooling: each window's gradient goes to its first maximum.

    Parameters
    ----------
    dout : (N, C, H', W')
    cache : from max_pool_forward_naive

    Returns
    -------
    dx : (N, C, H, W)
    """
    x, (hh, ww), stride = cache
    windows = _strided_windows(x, (hh, ww), stride)
    flat = windows.reshape(windows.shape[:4] + (hh * ww,))
    winner = flat.argmax(axis=-1)
    is_winner = np.arange(hh * ww) == winner[..., None]
    window_grads = (is_winner * dout[..., None]).reshape(windows.shape)
    return _scatter_windows(window_grads, x.shape, stride)


def _channel_view(a):
    """Broadcast a per-channel (C,) vector against (N, C, H, W)."""
    return a[None, :, None, None]


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization of every channel over the batch and both spatial axes.

    Parameters
    ----------
    x : (N, C, H, W)
    gamma, beta : (C,) scale and shift
    bn_param : dict with 'mode' ('train' or 'test') and optional 'eps'
        (1e-5), 'momentum' (0.9), 'running_mean', 'running_var' (zeros (C,));
        train mode writes the updated running statistics back into it.

    Returns
    -------
    out : (N, C, H, W)
    cache : opaque, for spatial_batchnorm_backward
    """
    mode = bn_param['mode']
    eps = bn_param.get('eps', 1e-5)
    momentum = bn_param.get('momentum', 0.9)
    channels = x.shape[1]
    running_mean = bn_param.get('running_mean', np.zeros(channels, dtype=x.dtype))
    running_var = bn_param.get('running_var', np.zeros(channels, dtype=x.dtype))

    if mode == 'train':
        mean = x.mean(axis=(0, 2, 3))
        var = x.var(axis=(0, 2, 3))
        bn_param['running_mean'] = momentum * running_mean + (1 - momentum) * mean
        bn_param['running_var'] = momentum * running_var + (1 - momentum) * var
    elif mode == 'test':
        mean, var = running_mean, running_var
    else:
        raise ValueError(f'unknown batch norm mode {mode!r}')

    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - _channel_view(mean)) * _channel_view(inv_std)
    out = _channel_view(gamma) * x_hat + _channel_view(beta)
    cache = (x_hat, gamma, inv_std, mode)
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    """Gradients of spatial_batchnorm_forward.

    Parameters
    ----------
    dout : (N, C, H, W)
    cache : from spatial_batchnorm_forward

    Returns
    -------
    dx : (N, C, H, W), dgamma : (C,), dbeta : (C,)
    """
    x_hat, gamma, inv_std, mode = cache
    axes = (0, 2, 3)
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * x_hat).sum(axis=axes)
    dx_hat = dout * _channel_view(gamma)
    if mode == 'test':
        # Running statistics are constants, so the layer is affine in x.
        return dx_hat * _channel_view(inv_std), dgamma, dbeta
    # Normalization removes the components along 1 and along x_hat.
    centered = (dx_hat - dx_hat.mean(axis=axes, keepdims=True)
                - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True))
    dx = centered * _channel_view(inv_std)
    return dx, dgamma, dbeta


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Group normalization: per sample, per group of C // G consecutive channels.

    Parameters
    ----------
    x : (N, C, H, W)
    gamma, beta : (1, C, 1, 1) scale and shift
    G : int, number of groups (divides C)
    gn_param : dict, optional 'eps' (1e-5)

    Returns
    -------
    out : (N, C, H, W)
    cache : opaque, for spatial_groupnorm_backward
    """
    eps = gn_param.get('eps', 1e-5)
    n = x.shape[0]
    grouped = x.reshape(n, G, -1)
    mean = grouped.mean(axis=2, keepdims=True)
    var = grouped.var(axis=2, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = ((grouped - mean) * inv_std).reshape(x.shape)
    out = gamma * x_hat + beta
    cache = (x_hat, gamma, inv_std, G)
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    """Gradients of spatial_groupnorm_forward.

    Parameters
    ----------
    dout : (N, C, H, W)
    cache : from spatial_groupnorm_forward

    Returns
    -------
    dx : (N, C, H, W), dgamma : (1, C, 1, 1), dbeta : (1, C, 1, 1)
    """
    x_hat, gamma, inv_std, G = cache
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3), keepdims=True)
    n = dout.shape[0]
    dx_hat = (dout * gamma).reshape(n, G, -1)
    x_hat_g = x_hat.reshape(n, G, -1)
    centered = (dx_hat - dx_hat.mean(axis=2, keepdims=True)
                - x_hat_g * (dx_hat * x_hat_g).mean(axis=2, keepdims=True))
    dx = (centered * inv_std).reshape(dout.shape)
    return dx, dgamma, dbeta
