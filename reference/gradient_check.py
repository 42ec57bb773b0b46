"""Finite-difference gradients, to check analytic backward passes.

The helpers perturb the array they are given IN PLACE, one element at a time, and
restore it afterwards (also when ``f`` raises). Closures that ignore their argument
therefore still see the perturbation, e.g.
``eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params['W1'])``.
"""

import numpy as np


def _evaluate_around(f, x, index, h):
    """Return ``(f(x + h e_index), f(x - h e_index))`` and leave x as it was.

    Array results are copied, because f may return a buffer it reuses.
    """
    original = x[index]
    try:
        x[index] = original + h
        f_plus = np.array(f(x), copy=True)
        x[index] = original - h
        f_minus = np.array(f(x), copy=True)
    finally:
        x[index] = original
    return f_plus, f_minus


def eval_numerical_gradient(f, x, verbose=True, h=1e-5):
    """Centered-difference gradient of a scalar function.

    Parameters
    ----------
    f : callable, ndarray -> scalar
    x : ndarray, any shape
        The point; modified in place during the call and restored.
    verbose : bool
        Print every index with its gradient entry.
    h : float
        Step.

    Returns
    -------
    grad : ndarray, shape and dtype of x, ``(f(x + h) - f(x - h)) / 2h`` per entry
    """
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        f_plus, f_minus = _evaluate_around(f, x, index, h)
        grad[index] = (f_plus - f_minus) / (2 * h)
        if verbose:
            print(index, grad[index])
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Centered-difference gradient of ``sum(df * f(x))`` for an array-valued f.

    This is the gradient that a backward pass returns when handed ``dout = df``.

    Parameters
    ----------
    f : callable, ndarray -> ndarray
    x : ndarray, any shape
        The point; modified in place during the call and restored.
    df : ndarray, shape of f(x)
        The upstream gradient.
    h : float
        Step.

    Returns
    -------
    grad : ndarray, shape and dtype of x
    """
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        f_plus, f_minus = _evaluate_around(f, x, index, h)
        grad[index] = np.sum((f_plus - f_minus) * df) / (2 * h)
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5):
    """Compare an analytic gradient with centered differences at random entries.

    Entries are drawn with ``np.random``; each comparison is printed.

    Parameters
    ----------
    f : callable, ndarray -> scalar
    x : ndarray, any shape
        The point; modified in place during the call and restored.
    analytic_grad : ndarray, shape of x
    num_checks : int
        Number of random entries to check.
    h : float
        Step.

    Returns
    -------
    rel_errors : ndarray, (num_checks,)
        ``|numerical - analytic| / (|numerical| + |analytic|)`` per checked entry.
    """
    rel_errors = np.zeros(num_checks)
    for check in range(num_checks):
        index = tuple(np.random.randint(size) for size in x.shape)
        f_plus, f_minus = _evaluate_around(f, x, index, h)
        numerical = float((f_plus - f_minus) / (2 * h))
        analytic = float(analytic_grad[index])
        scale = abs(numerical) + abs(analytic)
        rel_errors[check] = abs(numerical - analytic) / scale if scale > 0 else 0.0
        print(f"numerical: {numerical:f} analytic: {analytic:f}, relative error: {rel_errors[check]:e}")
    return rel_errors
