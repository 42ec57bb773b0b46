"""First-order update rules.

Every rule has the signature ``next_w, config = rule(w, dw, config=None)``:

- ``w``: the current parameter, any shape;
- ``dw``: the gradient of the loss with respect to ``w``, same shape;
- ``config``: a dict of hyperparameters and of the rule's state (moving averages,
  step counter). Pass back the returned ``config`` on the next step. Missing keys
  get their defaults, which the returned dict then holds.

The updated parameter keeps the dtype of ``w`` when ``dw`` has it too (state
arrays are created like ``w``, and Python-float hyperparameters do not promote).

``sgd_momentum`` and ``adam`` update their state arrays (``velocity``; ``m``
and ``v``) in place and allocate one new array per step, the returned
``next_w``, which also holds their intermediate terms: for the 4-million-entry
hidden layer of the convolutional network, every temporary is 16 MB to
allocate and fill. ``w`` and ``dw`` are never modified.
"""

import numpy as np


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: ``w - learning_rate * dw``.

    config keys: ``learning_rate`` (default 1e-2).
    """
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)

    next_w = w - config["learning_rate"] * dw
    return next_w, config


def sgd_momentum(w, dw, config=None):
    """SGD with momentum::

        velocity = momentum * velocity - learning_rate * dw
        next_w = w + velocity

    config keys: ``learning_rate`` (1e-2), ``momentum`` (0.9),
    ``velocity`` (state, starts at zeros like w).
    """
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    velocity = config.get("velocity")
    if velocity is None:
        velocity = np.zeros_like(w)

    # next_w first holds learning_rate * dw; same operations, same rounding as
    # velocity = momentum * velocity - learning_rate * dw.
    next_w = np.multiply(dw, config["learning_rate"], dtype=np.result_type(w, dw))
    velocity *= config["momentum"]
    velocity -= next_w
    np.add(w, velocity, out=next_w)

    config["velocity"] = velocity
    return next_w, config


def rmsprop(w, dw, config=None):
    """RMSProp: steps scaled by a moving average of squared gradients::

        cache = decay_rate * cache + (1 - decay_rate) * dw**2
        next_w = w - learning_rate * dw / (sqrt(cache) + epsilon)

    config keys: ``learning_rate`` (1e-2), ``decay_rate`` (0.99),
    ``epsilon`` (1e-8), ``cache`` (state, starts at zeros like w).
    """
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w))

    decay = config["decay_rate"]
    cache = decay * cache + (1 - decay) * dw**2
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])

    config["cache"] = cache
    return next_w, config


def adam(w, dw, config=None):
    """Adam: moving averages of the gradient and its square, bias-corrected::

        t = t + 1
        m = beta1 * m + (1 - beta1) * dw
        v = beta2 * v + (1 - beta2) * dw**2
        next_w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    with ``m_hat = m / (1 - beta1**t)`` and ``v_hat = v / (1 - beta2**t)``.

    config keys: ``learning_rate`` (1e-3), ``beta1`` (0.9), ``beta2`` (0.999),
    ``epsilon`` (1e-8); state ``m``, ``v`` (zeros like w) and ``t`` (0, the
    number of steps taken so far).
    """
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    m = config.get("m")
    m = np.zeros_like(w) if m is None else m
    v = config.get("v")
    v = np.zeros_like(w) if v is None else v
    t = config.get("t", 0) + 1

    beta1, beta2 = config["beta1"], config["beta2"]
    # next_w is the scratch of every term until it receives the result.
    next_w = np.multiply(dw, 1 - beta1, dtype=np.result_type(w, dw))
    m *= beta1
    m += next_w                              # m = beta1 * m + (1 - beta1) * dw
    np.square(dw, out=next_w)
    next_w *= 1 - beta2
    v *= beta2
    v += next_w                              # v = beta2 * v + (1 - beta2) * dw**2
    # Both averages start at zero, so early on they underestimate; dividing by
    # (1 - beta**t) removes that bias: m_hat = m / (1 - beta1**t), likewise v_hat.
    np.divide(v, 1 - beta2**t, out=next_w)
    np.sqrt(next_w, out=next_w)
    next_w += config["epsilon"]              # sqrt(v_hat) + epsilon
    np.divide(m, next_w, out=next_w)
    next_w *= config["learning_rate"] / (1 - beta1**t)   # learning_rate * m_hat / (...)
    np.subtract(w, next_w, out=next_w)

    config.update(m=m, v=v, t=t)
    return next_w, config
