"""Convolutional-network layers written the way the lecture draws them.

A self-test implementation of the graded API in a beginner's style: explicit
for loops over samples, filters, channels and output positions, one small
numpy reduction per step.  It casts every input to float32, allocates float32
outputs and returns float32 arrays, which the contract allows, so a grader
must accept single-precision results from it.
"""
import numpy as np


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
    out : (N, F, H', W') float32, H' = 1 + (H + 2 pad - HH) // stride
    cache : (x, w, b, conv_param) in float32
    """
    x = np.asarray(x, dtype=np.float32)
    w = np.asarray(w, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    stride = conv_param['stride']
    pad = conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride

    x_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=np.float32)
    x_pad[:, :, pad:pad + H, pad:pad + W] = x

    out = np.zeros((N, F, H_out, W_out), dtype=np.float32)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    top = i * stride
                    left = j * stride
                    window = x_pad[n, :, top:top + HH, left:left + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    """Gradients of conv_forward_naive.

    Parameters
    ----------
    dout : (N, F, H', W') upstream gradient
    cache : from conv_forward_naive

    Returns
    -------
    dx : (N, C, H, W), dw : (F, C, HH, WW), db : (F,), all float32
    """
    x, w, b, conv_param = cache
    dout = np.asarray(dout, dtype=np.float32)
    stride = conv_param['stride']
    pad = conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape

    x_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=np.float32)
    x_pad[:, :, pad:pad + H, pad:pad + W] = x

    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros((F, C, HH, WW), dtype=np.float32)
    db = np.zeros(F, dtype=np.float32)
    for n in range(N):
        for f in range(F):
            db[f] += np.sum(dout[n, f])
            for i in range(H_out):
                for j in range(W_out):
                    top = i * stride
                    left = j * stride
                    g = dout[n, f, i, j]
                    dw[f] += g * x_pad[n, :, top:top + HH, left:left + WW]
                    dx_pad[n, :, top:top + HH, left:left + WW] += g * w[f]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    """Max pooling over (pool_height, pool_width) windows, no padding.

    Parameters
    ----------
    x : (N, C, H, W)
    pool_param : dict with 'pool_height', 'pool_width', 'stride'

    Returns
    -------
    out : (N, C, H', W') float32, H' = 1 + (H - pool_height) // stride
    cache : (x, pool_param) with x in float32
    """
    x = np.asarray(x, dtype=np.float32)
    ph = pool_param['pool_height']
    pw = pool_param['pool_width']
    stride = pool_param['stride']
    N, C, H, W = x.shape
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride

    out = np.zeros((N, C, H_out, W_out), dtype=np.float32)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    top = i * stride
                    left = j * stride
                    out[n, c, i, j] = np.max(x[n, c, top:top + ph, left:left + pw])
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    """Gradient of max pooling: each window's gradient goes to its first maximum.

    Parameters
    ----------
    dout : (N, C, H', W')
    cache : from max_pool_forward_naive

    Returns
    -------
    dx : (N, C, H, W) float32
    """
    x, pool_param = cache
    dout = np.asarray(dout, dtype=np.float32)
    ph = pool_param['pool_height']
    pw = pool_param['pool_width']
    stride = pool_param['stride']
    N, C, H_out, W_out = dout.shape

    dx = np.zeros(x.shape, dtype=np.float32)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    top = i * stride
                    left = j * stride
                    window = x[n, c, top:top + ph, left:left + pw]
                    r, s = np.unravel_index(np.argmax(window), window.shape)
                    # += because overlapping windows may share a maximum.
                    dx[n, c, top + r, left + s] += dout[n, c, i, j]
    return dx


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
    out : (N, C, H, W) float32
    cache : opaque, for spatial_batchnorm_backward
    """
    x = np.asarray(x, dtype=np.float32)
    gamma = np.asarray(gamma, dtype=np.float32)
    beta = np.asarray(beta, dtype=np.float32)
    mode = bn_param['mode']
    eps = bn_param.get('eps', 1e-5)
    momentum = bn_param.get('momentum', 0.9)
    N, C, H, W = x.shape
    M = N * H * W
    running_mean = np.asarray(bn_param.get('running_mean', np.zeros(C)), dtype=np.float32)
    running_var = np.asarray(bn_param.get('running_var', np.zeros(C)), dtype=np.float32)

    mean = np.zeros(C, dtype=np.float32)
    var = np.zeros(C, dtype=np.float32)
    x_hat = np.zeros(x.shape, dtype=np.float32)
    out = np.zeros(x.shape, dtype=np.float32)
    for c in range(C):
        xc = x[:, c, :, :]
        if mode == 'train':
            mean[c] = np.sum(xc) / M
            var[c] = np.sum((xc - mean[c]) ** 2) / M
        elif mode == 'test':
            mean[c] = running_mean[c]
            var[c] = running_var[c]
        else:
            raise ValueError('unknown batch norm mode %r' % mode)
        x_hat[:, c, :, :] = (xc - mean[c]) / np.sqrt(var[c] + eps)
        out[:, c, :, :] = gamma[c] * x_hat[:, c, :, :] + beta[c]

    if mode == 'train':
        bn_param['running_mean'] = momentum * running_mean + (1 - momentum) * mean
        bn_param['running_var'] = momentum * running_var + (1 - momentum) * var
    cache = (x, x_hat, mean, var, gamma, eps, mode)
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    """Gradients of spatial_batchnorm_forward, channel by channel.

    Parameters
    ----------
    dout : (N, C, H, W)
    cache : from spatial_batchnorm_forward

    Returns
    -------
    dx : (N, C, H, W), dgamma : (C,), dbeta : (C,), all float32
    """
    x, x_hat, mean, var, gamma, eps, mode = cache
    dout = np.asarray(dout, dtype=np.float32)
    N, C, H, W = x.shape
    M = N * H * W

    dx = np.zeros(x.shape, dtype=np.float32)
    dgamma = np.zeros(C, dtype=np.float32)
    dbeta = np.zeros(C, dtype=np.float32)
    for c in range(C):
        dbeta[c] = np.sum(dout[:, c, :, :])
        dgamma[c] = np.sum(dout[:, c, :, :] * x_hat[:, c, :, :])
        dx[:, c, :, :] = _normalization_backward(
            dout[:, c, :, :] * gamma[c], x[:, c, :, :], mean[c], var[c], eps,
            M, statistics_depend_on_x=(mode == 'train'))
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
    out : (N, C, H, W) float32
    cache : opaque, for spatial_groupnorm_backward
    """
    x = np.asarray(x, dtype=np.float32)
    gamma = np.asarray(gamma, dtype=np.float32)
    beta = np.asarray(beta, dtype=np.float32)
    eps = gn_param.get('eps', 1e-5)
    N, C, H, W = x.shape
    group_size = C // G
    M = group_size * H * W

    mean = np.zeros((N, G), dtype=np.float32)
    var = np.zeros((N, G), dtype=np.float32)
    x_hat = np.zeros(x.shape, dtype=np.float32)
    out = np.zeros(x.shape, dtype=np.float32)
    for n in range(N):
        for g in range(G):
            first = g * group_size
            block = x[n, first:first + group_size, :, :]
            mean[n, g] = np.sum(block) / M
            var[n, g] = np.sum((block - mean[n, g]) ** 2) / M
            x_hat[n, first:first + group_size, :, :] = (
                (block - mean[n, g]) / np.sqrt(var[n, g] + eps))
    for c in range(C):
        out[:, c, :, :] = gamma[0, c, 0, 0] * x_hat[:, c, :, :] + beta[0, c, 0, 0]
    cache = (x, x_hat, mean, var, gamma, eps, G)
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    """Gradients of spatial_groupnorm_forward, group by group.

    Parameters
    ----------
    dout : (N, C, H, W)
    cache : from spatial_groupnorm_forward

    Returns
    -------
    dx : (N, C, H, W), dgamma : (1, C, 1, 1), dbeta : (1, C, 1, 1), all float32
    """
    x, x_hat, mean, var, gamma, eps, G = cache
    dout = np.asarray(dout, dtype=np.float32)
    N, C, H, W = x.shape
    group_size = C // G
    M = group_size * H * W

    dgamma = np.zeros((1, C, 1, 1), dtype=np.float32)
    dbeta = np.zeros((1, C, 1, 1), dtype=np.float32)
    for c in range(C):
        dbeta[0, c, 0, 0] = np.sum(dout[:, c, :, :])
        dgamma[0, c, 0, 0] = np.sum(dout[:, c, :, :] * x_hat[:, c, :, :])

    dx = np.zeros(x.shape, dtype=np.float32)
    for n in range(N):
        for g in range(G):
            group = slice(g * group_size, (g + 1) * group_size)
            dx_hat = dout[n, group, :, :] * gamma[0, group, :, :]
            dx[n, group, :, :] = _normalization_backward(
                dx_hat, x[n, group, :, :], mean[n, g], var[n, g], eps, M,
                statistics_depend_on_x=True)
    return dx, dgamma, dbeta


def _normalization_backward(dx_hat, x, mu, var, eps, M, statistics_depend_on_x):
    """Backpropagate through x_hat = (x - mu) / sqrt(var + eps) for one set of M values.

    Follows the computational graph node by node: x feeds x_hat directly and
    through mu and var, so dx collects three terms.

    Parameters
    ----------
    dx_hat : array of M values, gradient with respect to x_hat
    x : array of M values, same shape as dx_hat
    mu, var : scalars, the statistics used in the forward pass
    eps : float
    M : int, number of values the statistics were computed over
    statistics_depend_on_x : False when mu, var were running averages (constants)

    Returns
    -------
    dx : float32 array shaped like x
    """
    std = np.sqrt(var + eps)
    if not statistics_depend_on_x:
        return dx_hat / std
    x_mu = x - mu
    dvar = np.sum(dx_hat * x_mu) * (-0.5) * std ** -3
    dmu = -np.sum(dx_hat) / std + dvar * (-2.0) * np.sum(x_mu) / M
    return dx_hat / std + dvar * 2.0 * x_mu / M + dmu / M
