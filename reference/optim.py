"""First-order update rules.

Every rule has the signature ``next_w, config = rule(w, dw, config=None)``:

- ``w``: the current parameter, any shape;
- ``dw``: the gradient of the loss with respect to ``w``, same shape;
- ``config``: a dict of hyperparameters and of the rule's state (moving averages,
  step counter). Pass back the returned ``config`` on the next step. Missing keys
  get their defaults, which the returned dict then holds.

The updated parameter keeps the dtype of ``w`` when ``dw`` has it too (state
arrays are created like ``w``, and Python-float hyperparameters do not promote).
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
    velocity = config.get("velocity", np.zeros_like(w))

    velocity = config["momentum"] * velocity - config["learning_rate"] * dw
    next_w = w + velocity

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
    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    t = config.get("t", 0) + 1

    beta1, beta2 = config["beta1"], config["beta2"]
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw**2
    # Both averages start at zero, so early on they underestimate; dividing by
    # (1 - beta**t) removes that bias.
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])

    config.update(m=m, v=v, t=t)
    return next_w, config
