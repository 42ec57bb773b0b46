"""Fully connected building blocks given to students: affine, ReLU, losses, batch norm.

Every ``*_forward`` returns ``(out, cache)``; the matching ``*_backward`` takes the
upstream gradient ``dout`` (shaped like ``out``) and that cache, and returns the
gradients with respect to the forward inputs. Caches are opaque to callers.

All functions compute in the floating dtype they are given: float32 inputs give
float32 outputs and gradients.
"""

import numpy as np

__all__ = [
    "affine_forward",
    "affine_backward",
    "relu_forward",
    "relu_backward",
    "softmax_loss",
    "svm_loss",
    "batchnorm_forward",
    "batchnorm_backward",
]


# ----------------------------------------------------------------------------
# Affine layer
# ----------------------------------------------------------------------------

def affine_forward(x, w, b):
    """Affine (fully connected) layer: ``out = flatten(x) @ w + b``.

    Parameters
    ----------
    x : ndarray, (N, d_1, ..., d_k)
        A minibatch; each sample is flattened to a row of D = d_1 * ... * d_k.
    w : ndarray, (D, M)
    b : ndarray, (M,)

    Returns
    -------
    out : ndarray, (N, M)
    cache : opaque, for :func:`affine_backward`
    """
    rows = x.reshape(x.shape[0], -1)
    out = rows @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    """Gradients of :func:`affine_forward`.

    Parameters
    ----------
    dout : ndarray, (N, M)
    cache : from :func:`affine_forward`

    Returns
    -------
    dx : ndarray, (N, d_1, ..., d_k)
    dw : ndarray, (D, M)
    db : ndarray, (M,)
    """
    x, w = cache
    rows = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = rows.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


# ----------------------------------------------------------------------------
# ReLU
# ----------------------------------------------------------------------------

def relu_forward(x):
    """Rectified linear unit, elementwise ``max(x, 0)``.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, shape of x
    cache : opaque, for :func:`relu_backward`
    """
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    """Gradient of :func:`relu_forward`: ``dout`` where the input was positive, else 0.

    Returns
    -------
    dx : ndarray, shape of the forward input
    """
    x = cache
    return dout * (x > 0)


# ----------------------------------------------------------------------------
# Losses
# ----------------------------------------------------------------------------

def softmax_loss(x, y):
    """Mean cross-entropy of the softmax of class scores.

    Parameters
    ----------
    x : ndarray, (N, C)
        Scores; ``x[i, c]`` is the score of class c for sample i.
    y : ndarray of int, (N,)
        Correct classes, ``0 <= y[i] < C``.

    Returns
    -------
    loss : scalar, ``-mean_i log softmax(x_i)[y_i]``
    dx : ndarray, (N, C), gradient of the loss with respect to x
    """
    num_samples = x.shape[0]
    rows = np.arange(num_samples)
    # Softmax is unchanged by a per-row shift; shifting by the row max keeps exp() <= 1.
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, y].mean()

    dx = np.exp(log_probs)
    dx[rows, y] -= 1
    dx /= num_samples
    return loss, dx


def svm_loss(x, y):
    """Mean multiclass hinge loss, margin 1.

    Parameters
    ----------
    x : ndarray, (N, C)
        Scores.
    y : ndarray of int, (N,)
        Correct classes.

    Returns
    -------
    loss : scalar, ``mean_i sum_{c != y_i} max(0, x[i, c] - x[i, y_i] + 1)``
    dx : ndarray, (N, C)
    """
    num_samples = x.shape[0]
    rows = np.arange(num_samples)
    correct_scores = x[rows, y][:, None]
    margins = np.maximum(0, x - correct_scores + 1)
    margins[rows, y] = 0
    loss = margins.sum() / num_samples

    # Each violated margin pushes its class score up and the correct score down.
    dx = (margins > 0).astype(x.dtype)
    dx[rows, y] = -dx.sum(axis=1)
    dx /= num_samples
    return loss, dx


# ----------------------------------------------------------------------------
# Batch normalization
# ----------------------------------------------------------------------------

def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization over the samples of a minibatch.

    In ``'train'`` mode each feature is normalized with the minibatch mean and the
    biased variance (``np.var``), and exponential running averages are updated::

        running = momentum * running + (1 - momentum) * batch_statistic

    In ``'test'`` mode the running averages are used instead.

    Parameters
    ----------
    x : ndarray, (N, D)
    gamma : ndarray, (D,)
        Scale applied after normalization.
    beta : ndarray, (D,)
        Shift applied after normalization.
    bn_param : dict
        - ``mode``: ``'train'`` or ``'test'`` (required)
        - ``eps``: added to the variance, default 1e-5
        - ``momentum``: default 0.9
        - ``running_mean``, ``running_var``: (D,), default zeros; the updated
          arrays are written back into ``bn_param``.

    Returns
    -------
    out : ndarray, (N, D)
    cache : opaque, for :func:`batchnorm_backward`
    """
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    num_features = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(num_features, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(num_features, dtype=x.dtype))

    if mode == "train":
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        mean, var = running_mean, running_var
    else:
        raise ValueError(f"Invalid batchnorm mode {mode!r}; expected 'train' or 'test'")

    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    out = gamma * x_hat + beta

    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, (mode, x_hat, gamma, std)


def batchnorm_backward(dout, cache):
    """Gradients of :func:`batchnorm_forward`.

    In train mode the mean and variance depend on x, which gives the closed form::

        dx = (g - mean(g) - x_hat * mean(g * x_hat)) / std,   g = dout * gamma

    In test mode they are constants and ``dx = dout * gamma / std``.

    Parameters
    ----------
    dout : ndarray, (N, D)
    cache : from :func:`batchnorm_forward`

    Returns
    -------
    dx : ndarray, (N, D)
    dgamma : ndarray, (D,)
    dbeta : ndarray, (D,)
    """
    mode, x_hat, gamma, std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)

    dx_hat = dout * gamma
    if mode == "train":
        dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / std
    else:
        dx = dx_hat / std
    return dx, dgamma, dbeta
