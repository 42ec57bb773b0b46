"""Convolutional-network layers: the functions you write in this assignment.

The layers from earlier parts of the course (affine, ReLU, softmax loss, batch norm, ...)
are imported below, so ``from student_impl.layers import *`` gives you those too.

Rules that hold for every function here:
- Each ``*_forward`` returns ``(out, cache)``. The cache is yours: put in it whatever your
  ``*_backward`` needs. It is only ever handed back to your own backward function.
- Each ``*_backward`` takes the upstream gradient ``dout`` (shaped like ``out``) and that
  cache, and returns the gradients with the shapes of the forward inputs.
- What is checked before any value: the number of returned items, and that every
  returned array is a numpy array of a real floating dtype (float32 or float64; no
  complex, no integers, no lists) of exactly the documented shape.
- Convolution and pooling windows fit exactly (see the output sizes below).
- A backward is graded on its own even when your forward fails: if your ``*_forward``
  raises (or hangs, or returns no ``(out, cache)``) on a backward test's input, your
  ``*_backward`` is called with the conventional cache, the forward's arguments in order:
  ``(x, w, b, conv_param)``, ``(x, pool_param)``, ``(x, gamma, beta, bn_param)`` or
  ``(x, gamma, beta, G, gn_param)``. A backward that reads such a cache earns its points
  whatever the forward does; the failure message says when this happened.
- Do not modify the input arrays (x, w, b, gamma, beta, dout) in place.
- Use numpy only. Replace each ``raise NotImplementedError(...)`` with your code.

What you may import: numpy, the Python standard library and the provided course code
(``reference``), nothing else (no scipy, torch, ``fast_ext``, the answer key or other
people's code). Each function here must compute its result itself: while one of them runs,
the provided fast layers (``reference.fast_layers``, ``reference.layer_utils``) refuse to
work, and the grader says so ("conv_forward_naive must compute the convolution itself; it
called the provided conv_forward_fast"). Breaking a rule costs that function's tests.
"""
import numpy as np

from reference.layers import *  # noqa: F401,F403  (the layers you already have)


def conv_forward_naive(x, w, b, conv_param):
    """Forward pass of a convolutional layer.

    Every filter is slid over every input; at each position the output is the sum over
    channels, rows and columns of filter * window, plus the filter's bias:

        out[n, f, i, j] = b[f] + sum_{c, p, q} w[f, c, p, q] * x_pad[n, c, i*stride + p, j*stride + q]

    where x_pad is x with `pad` zeros added on each side of H and W.

    Parameters
    ----------
    x : (N, C, H, W) input, N samples of C channels, height H, width W.
    w : (F, C, HH, WW) filters, F of them, each of height HH and width WW.
    b : (F,) biases.
    conv_param : dict with
        'stride' : step, in pixels, between neighbouring windows (same on H and W);
        'pad'    : number of zeros added on every side of H and W (use np.pad).

    Returns
    -------
    out : (N, F, H', W') with H' = 1 + (H + 2 * pad - HH) / stride and
          W' = 1 + (W + 2 * pad - WW) / stride, divisions that are exact.
    cache : anything your ``conv_backward_naive`` needs; (x, w, b, conv_param) is the
            conventional one (see the rules at the top of this file).

    Notes
    -----
    The windows fit exactly: you are only ever given sizes where (H + 2 * pad - HH) and
    (W + 2 * pad - WW) are multiples of the stride, so H' and W' are whole numbers.
    Rounding down (``//``) or asserting that the division is exact are both correct.
    Every returned array is a real floating numpy array (float32 or float64) of exactly
    the shape given here.
    """
    raise NotImplementedError(
        "conv_forward_naive is not implemented yet: write it in student_impl/layers.py")


def conv_backward_naive(dout, cache):
    """Backward pass of a convolutional layer.

    Parameters
    ----------
    dout : (N, F, H', W') upstream gradient.
    cache : the cache returned by your ``conv_forward_naive``.

    Returns
    -------
    dx : (N, C, H, W) gradient with respect to x (without the padding).
    dw : (F, C, HH, WW) gradient with respect to w.
    db : (F,) gradient with respect to b.
    """
    raise NotImplementedError(
        "conv_backward_naive is not implemented yet: write it in student_impl/layers.py")


def max_pool_forward_naive(x, pool_param):
    """Forward pass of a max-pooling layer.

    out[n, c, i, j] = max over the window x[n, c, i*stride : i*stride + pool_height,
                                                  j*stride : j*stride + pool_width]

    No padding. Each channel is pooled on its own.

    Parameters
    ----------
    x : (N, C, H, W) input.
    pool_param : dict with
        'pool_height' : height of a window;
        'pool_width'  : width of a window;
        'stride'      : step, in pixels, between neighbouring windows.

    Returns
    -------
    out : (N, C, H', W') with H' = 1 + (H - pool_height) / stride and
          W' = 1 + (W - pool_width) / stride, divisions that are exact.
    cache : anything your ``max_pool_backward_naive`` needs; (x, pool_param) is the
            conventional one (see the rules at the top of this file).

    Notes
    -----
    The windows fit exactly: you are only ever given sizes where (H - pool_height) and
    (W - pool_width) are multiples of the stride. Rounding down (``//``) or asserting
    that the division is exact are both correct. Windows may overlap (stride smaller
    than the window) or leave gaps (stride larger), and inputs may hold ties (several
    equal maxima in a window, e.g. integer-valued images or ReLU outputs).
    """
    raise NotImplementedError(
        "max_pool_forward_naive is not implemented yet: write it in student_impl/layers.py")


def max_pool_backward_naive(dout, cache):
    """Backward pass of a max-pooling layer.

    Each upstream value goes to the input position that held the maximum of its window.
    Ties: if a window holds several equal maxima, its upstream value must go to those
    maxima only, in non-negative shares that add up to the value: all of it to any one
    of them (the first, the last), or split evenly between them, are all correct. Giving
    the whole value to every tied maximum (the mask ``window == window.max()``) counts
    it several times and is wrong.
    If windows overlap (stride smaller than the window), contributions add up.

    Parameters
    ----------
    dout : (N, C, H', W') upstream gradient.
    cache : the cache returned by your ``max_pool_forward_naive``.

    Returns
    -------
    dx : (N, C, H, W) gradient with respect to x.
    """
    raise NotImplementedError(
        "max_pool_backward_naive is not implemented yet: write it in student_impl/layers.py")


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Forward pass of spatial batch normalization.

    Each channel c is normalized with the mean and the variance of all values of that
    channel over the minibatch and over space (axes N, H and W), then scaled by gamma[c]
    and shifted by beta[c]. The variance is the biased one (np.var). Hint: the vanilla
    ``batchnorm_forward`` (imported above) does this for an (N, D) array.

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
        In 'train' mode, update the running averages
        (running = momentum * running + (1 - momentum) * batch statistic) and store them
        back into bn_param; in 'test' mode, normalize with them.

    Returns
    -------
    out : (N, C, H, W).
    cache : anything your ``spatial_batchnorm_backward`` needs; (x, gamma, beta, bn_param)
            is the conventional one (see the rules at the top of this file).
    """
    raise NotImplementedError(
        "spatial_batchnorm_forward is not implemented yet: write it in student_impl/layers.py")


def spatial_batchnorm_backward(dout, cache):
    """Backward pass of spatial batch normalization (forward run in 'train' mode).

    Parameters
    ----------
    dout : (N, C, H, W) upstream gradient.
    cache : the cache returned by your ``spatial_batchnorm_forward``.

    Returns
    -------
    dx : (N, C, H, W) gradient with respect to x.
    dgamma : (C,) gradient with respect to gamma.
    dbeta : (C,) gradient with respect to beta.
    """
    raise NotImplementedError(
        "spatial_batchnorm_backward is not implemented yet: write it in student_impl/layers.py")


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Forward pass of spatial group normalization.

    The C channels are split into G groups of C // G consecutive channels (channels
    0 .. C//G - 1 form group 0, and so on). For each sample and each group, the values
    (C // G channels x H x W) are normalized with their own mean and biased variance:

        x_hat = (x - mean) / sqrt(var + eps),    out = gamma * x_hat + beta

    gamma and beta are per channel. There are no running averages and no modes.

    Parameters
    ----------
    x : (N, C, H, W) input.
    gamma : (1, C, 1, 1) scale.
    beta : (1, C, 1, 1) shift.
    G : number of groups; C is a multiple of G.
    gn_param : dict; may hold 'eps' (default 1e-5), read it with gn_param.get('eps', 1e-5).

    Returns
    -------
    out : (N, C, H, W).
    cache : anything your ``spatial_groupnorm_backward`` needs; (x, gamma, beta, G,
            gn_param) is the conventional one (see the rules at the top of this file).
    """
    raise NotImplementedError(
        "spatial_groupnorm_forward is not implemented yet: write it in student_impl/layers.py")


def spatial_groupnorm_backward(dout, cache):
    """Backward pass of spatial group normalization.

    Parameters
    ----------
    dout : (N, C, H, W) upstream gradient.
    cache : the cache returned by your ``spatial_groupnorm_forward``.

    Returns
    -------
    dx : (N, C, H, W) gradient with respect to x.
    dgamma : (1, C, 1, 1) gradient with respect to gamma.
    dbeta : (1, C, 1, 1) gradient with respect to beta.
    """
    raise NotImplementedError(
        "spatial_groupnorm_backward is not implemented yet: write it in student_impl/layers.py")
