"""The one way tests compare arrays, and the tolerances it applies.

Error measure
-------------
``scaled_error(actual, expected) = max|actual - expected| / max|expected|``:
the worst absolute difference, relative to the size of the expected array.
The seed's elementwise ``rel_error`` divides every difference by the size of
that element, so an element that is nearly zero through cancellation shows a
large error for correct float32 code; scaling by the whole array does not, while
any real bug (a missing bias, a border left out, a factor of N) still moves
some element by a sizeable fraction of the array's scale.

Tolerances
----------
Expected values are the answer key's outputs in float64, frozen at full
precision. A correct float64 implementation differs from them only by the
order of summation (about 1e-15); a correct implementation that works in
float32 differs by about 1e-7 per operation, a few 1e-6 after the sums of a
convolution or a normalization. The tolerances leave a margin of 10 to 100
over those spreads and stay three orders of magnitude below the smallest error
a one-bug implementation in the test corpus produces.
"""

import numpy as np
import pytest

#: Tolerance on ``scaled_error`` by the working precision of the comparison.
TOLERANCE = {np.dtype(np.float64): 1e-5, np.dtype(np.float32): 1e-4}

#: Absolute bound on the mean and std of normalized data (values of order 1):
#: float32 arithmetic leaves about 1e-6; eps = 1e-5 on a variance of 16 shrinks
#: the std by 3e-7; the smallest normalization bug moves them by 1e-2 or more.
STATISTIC_TOLERANCE = 1e-4


def rel_error(x, y):
    """The seed's elementwise relative error: max |x - y| / max(1e-8, |x| + |y|)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def scaled_error(actual, expected):
    """max |actual - expected| relative to max |expected| (see module docstring)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-12)
    return float(np.max(np.abs(actual - expected), initial=0.0)) / scale


def working_precision(*arrays, precision=None):
    """The lowest floating precision among the arrays and ``precision`` (float32 or float64)."""
    dtypes = [np.asarray(a).dtype for a in arrays] + ([np.dtype(precision)] if precision else [])
    if any(dt == np.float32 or dt == np.float16 for dt in dtypes):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def fail(message):
    """Fail the current test with ``message`` alone: no traceback of the harness."""
    pytest.fail(message, pytrace=False)


def _as_array(value, what):
    if value is None:
        fail(f"{what} is None: did the function forget to return it?")
    try:
        array = np.asarray(value)
    except Exception as error:  # a ragged list, an object that refuses conversion
        fail(f"{what} is not an array: {type(value).__name__} ({error})")
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        fail(f"{what} is not a numeric array: got {type(value).__name__} of dtype {array.dtype}")
    return array


def assert_close(actual, expected, what, *, precision=None):
    """Fail the test unless ``actual`` matches ``expected`` within the tolerance.

    Parameters
    ----------
    actual : array_like
        What the implementation under test returned.
    expected : ndarray
        The frozen expected value.
    what : str
        How to name the value in a failure message, e.g. ``"dx"``.
    precision : dtype, optional
        The precision the value was computed in, when known (the inputs'
        dtype): float32 selects the float32 tolerance even for a float64 result.
    """
    actual = _as_array(actual, what)
    expected = np.asarray(expected)
    if actual.shape != expected.shape:
        fail(f"{what} has shape {actual.shape}, expected {expected.shape}")
    bad = ~np.isfinite(actual)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        fail(f"{what} contains {actual[index]} (first at index {index}); expected finite values")
    tolerance = TOLERANCE[working_precision(actual, expected, precision=precision)]
    error = scaled_error(actual, expected)
    if error > tolerance:
        diff = np.abs(actual.astype(np.float64) - expected)
        index = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
        index = tuple(int(i) for i in index)
        fail(
            f"{what} differs from the expected values: error {error:.2e} "
            f"(max difference / max |expected|), tolerance {tolerance:.0e}\n"
            f"  worst at index {index}: got {float(actual[index]):.8g}, "
            f"expected {float(expected[index]):.8g}\n"
            f"  (the notebook's rel_error would print {rel_error(actual, expected):.2e})"
        )


def assert_unchanged(after, before, what):
    """Fail the test if an input array was modified in place."""
    if not np.array_equal(np.asarray(after), before, equal_nan=True):
        fail(f"{what} was modified in place; the function must leave its inputs unchanged")


def unpack(result, count, what):
    """Check that a function returned a tuple of ``count`` items and return it.

    Parameters
    ----------
    result : object
        The function's return value.
    count : int
        How many items the contract says it returns.
    what : str
        The names of the items as the contract says them, e.g. ``"(out, cache)"``.
    """
    if result is None:
        fail(f"returned None; expected {what}: did the function forget its return statement?")
    if not isinstance(result, (tuple, list)) or len(result) != count:
        got = f"a {type(result).__name__} of length {len(result)}" if isinstance(result, (tuple, list)) \
            else f"a {type(result).__name__}"
        fail(f"returned {got}; expected the {count} values {what}")
    return tuple(result)


def cache_from(forward, *args):
    """Run the implementation's own forward to get the cache its backward needs.

    A failure here is the forward's, so it is reported as such: the backward
    test cannot run, and the message says which function to fix first.
    """
    name = getattr(forward, "__name__", "the forward function")
    try:
        result = forward(*args)
    except NotImplementedError:
        result = NotImplemented
    if result is NotImplemented:  # failing outside the except block keeps the message alone
        fail(f"cannot test the backward pass yet: {name} (which makes its cache) is not implemented")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"cannot test the backward pass: {name} must return (out, cache)")
    return result[1]


def assert_within(actual, expected, tolerance, what):
    """Fail the test unless every element of ``actual`` is within ``tolerance`` of ``expected``.

    For statistics with a known target (a mean of 0, a std of 1), where a
    relative measure would divide by zero.
    """
    actual = _as_array(actual, what).astype(np.float64)
    expected = np.broadcast_to(np.asarray(expected, dtype=np.float64), actual.shape)
    gap = np.abs(actual - expected)
    if not np.all(gap <= tolerance):
        worst = int(np.argmax(np.where(np.isnan(gap), np.inf, gap)))
        fail(f"{what}: got {np.round(actual, 6).tolist()}\n"
             f"  expected {np.round(expected, 6).tolist()} within {tolerance:.0e} "
             f"(worst at position {worst})")
