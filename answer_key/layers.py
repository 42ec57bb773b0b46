"""Answer key for the graded layers of the convolutional-network assignment.

Laid out like ``student_impl/layers.py`` so the harness can load it in place of a
student's package: the provided layers (affine, relu, softmax loss, batch norm) are
re-exported, and every graded function below has the same name, signature and
return values as in the contract (docs in ``SPEC.md``).

Caches are opaque: hand a cache only to the backward function of this module.
No function modifies its inputs.
"""
import numpy as np

# Re-exported so that ``from answer_key.layers import *`` offers the same
# names as a student's ``layers.py``.
from reference.layers import *  # noqa: F401,F403
from reference.layers import batchnorm_backward, batchnorm_forward


def _output_size(size, window, stride, pad=0):
    """Number of window positions along one axis: 1 + (size + 2 pad - window) // stride."""
    return 1 + (size + 2 * pad - window) // stride


def _pad_spatial(x, pad):
    """Zero-pad the two trailing (spatial) axes of x (N, C, H, W) by `pad` on each side."""
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def _float_result_type(*arrays):
    """The dtype numpy promotes the arrays to, but at least float32 (so ints become floats)."""
    return np.result_type(*arrays, np.float32)


# ----------------------------------------------------------------------------------------
# Convolution
# ----------------------------------------------------------------------------------------

def conv_forward_naive(x, w, b, conv_param):
    """Forward pass of a convolutional layer (cross-correlation, as in every CNN library).

    out[n, f, i, j] = b[f] + sum_{c, p, q} w[f, c, p, q] * x_pad[n, c, i*stride + p, j*stride + q]

    Parameters
    ----------
    x : (N, C, H, W) input.
    w : (F, C, HH, WW) filters.
    b : (F,) biases.
    conv_param : dict with
        'stride' : step between neighbouring windows, on H and W;
        'pad'    : number of zeros added on every side of H and W.

    Returns
    -------
    out : (N, F, H', W') with H' = 1 + (H + 2 pad - HH) // stride,
          W' = 1 + (W + 2 pad - WW) // stride; dtype promoted from x, w, b (at least float32).
    cache : (x, w, b, conv_param), for ``conv_backward_naive``.
    """
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = _output_size(H, HH, stride, pad)
    W_out = _output_size(W, WW, stride, pad)

    x_pad = _pad_spatial(x, pad)
    out = np.empty((N, F, H_out, W_out), dtype=_float_result_type(x, w, b))
    for n in range(N):
        for i in range(H_out):
            top = i * stride
            for j in range(W_out):
                left = j * stride
                window = x_pad[n, :, top:top + HH, left:left + WW]  # (C, HH, WW)
                out[n, :, i, j] = np.tensordot(w, window, axes=3) + b
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    """Backward pass of a convolutional layer.

    Parameters
    ----------
    dout : (N, F, H', W') upstream gradient.
    cache : the cache returned by ``conv_forward_naive``.

    Returns
    -------
    dx : (N, C, H, W) gradient with respect to x.
    dw : (F, C, HH, WW) gradient with respect to w.
    db : (F,) gradient with respect to b.
    """
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, _, H, W = x.shape
    _, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    grad_dtype = _float_result_type(dout, x, w)

    x_pad = _pad_spatial(x, pad)
    dx_pad = np.zeros(x_pad.shape, dtype=grad_dtype)
    dw = np.zeros(w.shape, dtype=grad_dtype)
    db = dout.sum(axis=(0, 2, 3)).astype(grad_dtype)
    for n in range(N):
        for i in range(H_out):
            top = i * stride
            for j in range(W_out):
                left = j * stride
                window = (n, slice(None), slice(top, top + HH), slice(left, left + WW))
                upstream = dout[n, :, i, j]  # (F,)
                dw += np.multiply.outer(upstream, x_pad[window])
                dx_pad[window] += np.tensordot(upstream, w, axes=1)
    # Gradients that landed on the padding belong to constants, not to x.
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db


# ----------------------------------------------------------------------------------------
# Max pooling
# ----------------------------------------------------------------------------------------

def max_pool_forward_naive(x, pool_param):
    """Forward pass of a max-pooling layer (no padding; windows may overlap).

    out[n, c, i, j] = max_{p, q} x[n, c, i*stride + p, j*stride + q]

    Parameters
    ----------
    x : (N, C, H, W) input.
    pool_param : dict with 'pool_height', 'pool_width' (window size) and 'stride'.

    Returns
    -------
    out : (N, C, H', W') with H' = 1 + (H - pool_height) // stride,
          W' = 1 + (W - pool_width) // stride; dtype of x.
    cache : (x, pool_param), for ``max_pool_backward_naive``.
    """
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride = pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = _output_size(H, ph, stride), _output_size(W, pw, stride)

    out = np.empty((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for i in range(H_out):
            top = i * stride
            for j in range(W_out):
                left = j * stride
                out[n, :, i, j] = x[n, :, top:top + ph, left:left + pw].max(axis=(1, 2))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    """Backward pass of a max-pooling layer.

    Each upstream value goes to the position of its window's maximum. With ties, it goes
    to the first maximum in row-major order within the window (``np.argmax`` order); the
    contract accepts any single maximum or an even split. Overlapping windows add up.

    Parameters
    ----------
    dout : (N, C, H', W') upstream gradient.
    cache : the cache returned by ``max_pool_forward_naive``.

    Returns
    -------
    dx : (N, C, H, W) gradient with respect to x.
    """
    x, pool_param = cache
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride = pool_param["stride"]
    N, C, _, _ = x.shape
    _, _, H_out, W_out = dout.shape
    channels = np.arange(C)

    dx = np.zeros(x.shape, dtype=_float_result_type(dout, x))
    for n in range(N):
        for i in range(H_out):
            top = i * stride
            for j in range(W_out):
                left = j * stride
                window = x[n, :, top:top + ph, left:left + pw].reshape(C, ph * pw)
                row, col = np.divmod(window.argmax(axis=1), pw)
                # One index per channel, all distinct, so fancy-index += does not drop any.
                dx[n, channels, top + row, left + col] += dout[n, :, i, j]
    return dx


# ----------------------------------------------------------------------------------------
# Spatial batch normalization
# ----------------------------------------------------------------------------------------

def _channels_last_rows(x):
    """(N, C, H, W) -> (N*H*W, C): one row per pixel, one column per channel."""
    N, C, H, W = x.shape
    return x.transpose(0, 2, 3, 1).reshape(N * H * W, C)


def _channels_first(rows, shape):
    """Inverse of ``_channels_last_rows``: (N*H*W, C) -> contiguous (N, C, H, W)."""
    N, C, H, W = shape
    return np.ascontiguousarray(rows.reshape(N, H, W, C).transpose(0, 3, 1, 2))


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Forward pass of spatial batch normalization.

    Each channel is normalized with statistics taken over N, H and W (biased variance),
    which is ordinary batch norm applied to the (N*H*W, C) matrix of pixels.

    Parameters
    ----------
    x : (N, C, H, W) input.
    gamma : (C,) scale.
    beta : (C,) shift.
    bn_param : dict with
        'mode'         : 'train' or 'test' (required);
        'eps'          : added to the variance, default 1e-5;
        'momentum'     : of the running averages, default 0.9;
        'running_mean' : (C,), default zeros;
        'running_var'  : (C,), default zeros.
        In 'train' mode the updated running averages are written back into bn_param;
        in 'test' mode they are used to normalize.

    Returns
    -------
    out : (N, C, H, W).
    cache : for ``spatial_batchnorm_backward``.
    """
    out_rows, bn_cache = batchnorm_forward(_channels_last_rows(x), gamma, beta, bn_param)
    return _channels_first(out_rows, x.shape), bn_cache


def spatial_batchnorm_backward(dout, cache):
    """Backward pass of spatial batch normalization ('train' mode forward).

    Parameters
    ----------
    dout : (N, C, H, W) upstream gradient.
    cache : the cache returned by ``spatial_batchnorm_forward``.

    Returns
    -------
    dx : (N, C, H, W) gradient with respect to x.
    dgamma : (C,) gradient with respect to gamma.
    dbeta : (C,) gradient with respect to beta.
    """
    dx_rows, dgamma, dbeta = batchnorm_backward(_channels_last_rows(dout), cache)
    return _channels_first(dx_rows, dout.shape), dgamma, dbeta


# ----------------------------------------------------------------------------------------
# Spatial group normalization
# ----------------------------------------------------------------------------------------

def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Forward pass of spatial group normalization.

    The C channels are split into G groups of C // G consecutive channels; each sample's
    group is normalized with its own mean and biased variance over (C // G, H, W), then
    scaled and shifted per channel:

        out = gamma * (x - mean_group) / sqrt(var_group + eps) + beta

    Parameters
    ----------
    x : (N, C, H, W) input.
    gamma : (1, C, 1, 1) scale.
    beta : (1, C, 1, 1) shift.
    G : number of groups; must divide C.
    gn_param : dict, may hold 'eps' (default 1e-5). Nothing is written into it.

    Returns
    -------
    out : (N, C, H, W).
    cache : for ``spatial_groupnorm_backward``.
    """
    N, C, H, W = x.shape
    if C % G != 0:
        raise ValueError(f"group norm needs G to divide C, got C={C}, G={G}")
    eps = gn_param.get("eps", 1e-5)

    groups = x.reshape(N, G, -1)  # consecutive channels share a group
    mean = groups.mean(axis=2, keepdims=True)
    inv_std = 1.0 / np.sqrt(groups.var(axis=2, keepdims=True) + eps)
    x_hat = ((groups - mean) * inv_std).reshape(x.shape)
    out = gamma * x_hat + beta
    return out, (x_hat, gamma, inv_std, G)


def spatial_groupnorm_backward(dout, cache):
    """Backward pass of spatial group normalization.

    With x_hat the normalized input of a group of m values and g = dout * gamma,

        dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)),

    the means taken over the group (m = C // G * H * W values of one sample).

    Parameters
    ----------
    dout : (N, C, H, W) upstream gradient.
    cache : the cache returned by ``spatial_groupnorm_forward``.

    Returns
    -------
    dx : (N, C, H, W) gradient with respect to x.
    dgamma : (1, C, 1, 1) gradient with respect to gamma.
    dbeta : (1, C, 1, 1) gradient with respect to beta.
    """
    x_hat, gamma, inv_std, G = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3), keepdims=True)

    dx_hat = (dout * gamma).reshape(N, G, -1)
    x_hat = x_hat.reshape(N, G, -1)
    dx = inv_std * (
        dx_hat
        - dx_hat.mean(axis=2, keepdims=True)
        - x_hat * (dx_hat * x_hat).mean(axis=2, keepdims=True)
    )
    return dx.reshape(dout.shape), dgamma, dbeta
