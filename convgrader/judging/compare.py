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

Tolerances (the one place they are justified)
---------------------------------------------
Expected values are the answer key's outputs in float64, frozen at full
precision. The tolerance on ``scaled_error`` depends only on the working
precision of the comparison: float32 when the inputs or the result are float32,
or when a float64 result holds only float32 values (computed in float32, then
cast up); float64 otherwise.

==========================================================  ==============
figure                                                      scaled_error
==========================================================  ==============
seed, elementwise rel_error printed by the notebook:
  conv forward 2e-8, conv dx 1e-8, pool dx 3e-12,
  batchnorm dx 3e-7, groupnorm dx 7e-8, ThreeLayerConvNet
  W2 gradient check 1.5e-2 .. 2.9e-2 (finite-difference noise
  at ReLU and max kinks, hence a separate 1e-2 on a scaled
  error in that test, not this table)
measured, answer key vs frozen values, float64 cases          <= 2e-16
measured, vectorized (float64) vs frozen, every fixture       <= 6.1e-15
measured, loops_float32 (float32 inside) on float64 cases     <= 4.2e-6
  (worst: batchnorm dgamma with a small variance and eps 1e-3;
  typical 1e-7)
measured, all three on the float32 cases                      <= 4.9e-7
weakest one-bug mutant caught by values (its largest error    3.4e-2
  over its cases: batchnorm with the unbiased variance;
  next 4.4e-2, all others >= 0.2)
==========================================================  ==============

So TOLERANCE[float64] = 1e-5 sits 1e9 above float64 rounding and 3,000 below
the weakest bug; TOLERANCE[float32] = 1e-4 is 24x the worst float32 spread and
340x below the weakest bug. Mutants whose values are right to 1e-7 (an input
modified in place, a wrong initialization) are caught by the checks made for
them (``assert_unchanged``, the model's shape, dtype and statistics tests),
not by a tolerance. The measurements come from grading the answer key, the two
correct implementations under tests/selftest/implementations and every mutant
on every fixture case.
"""

import numpy as np
import pytest

from convgrader import limits, untrusted
from convgrader.assignment import AREAS, BY_NAME
from convgrader.judging import diagnostics
from convgrader.messages import Said, hint, say, together
from convgrader.running import sandbox

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
    """The lowest floating precision among the arrays and ``precision`` (float32 or float64).

    The first array is the result under test: float64 values that all survive a
    round trip through float32 were computed in float32, and are judged so.
    """
    dtypes = [np.asarray(a).dtype for a in arrays] + ([np.dtype(precision)] if precision else [])
    if any(dt == np.float32 or dt == np.float16 for dt in dtypes):
        return np.dtype(np.float32)
    first = np.asarray(arrays[0]) if arrays else np.zeros(0)
    if first.dtype == np.float64 and first.size > 1 and np.any(first) \
            and np.array_equal(first.astype(np.float32).astype(np.float64), first):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def failure(said, figure=None):
    """The exception that fails a test with ``said`` alone (no traceback of the harness), as data.

    The failure travels as a value: ``said`` (a :class:`~convgrader.messages.Said`,
    its lines and tagged hints) and ``figure`` (see :func:`comparison_figure`)
    ride on the exception as its attributes, for the outcome log and every
    writer, which say it again in their reader's language; its text is only
    what pytest prints in this run.
    """
    exception = pytest.fail.Exception(str(said), pytrace=False)
    exception.said, exception.figure = said, figure
    return exception


def fail(said, figure=None):
    """Fail the current test with ``said`` (a Said, or a list of lines) and ``figure``."""
    raise failure(together(*said) if isinstance(said, (list, tuple)) else together(said), figure)


def fail_with_hints(message, hints, figure=None):
    """Fail with ``message`` (a Said or a list of them) followed by the hints (Said), one per line."""
    lines = [message] if isinstance(message, Said) else list(message)
    fail(together(*lines, *hints), figure)


def said_raised(type_name, message, where=(), explained=None):
    """What the submission raised, as said: ``Type: message``, where (its own frames), a hint when one fits."""
    first = say("raised", type_name=type_name, message=message) if message else say("verbatim", text=type_name)
    return together(first, *where, explained)


def said_of(exception):
    """What a failure raised by :func:`fail` said (a Said); pytest's own text for any other failure."""
    said = getattr(exception, "said", None)
    return said if isinstance(said, Said) else say("verbatim", text=str(getattr(exception, "msg", exception)))


#: Largest side of the slice a failure's figure carries (the report draws it pixel by pixel).
FIGURE_SIDE = 32


def comparison_figure(actual, expected, what, context=None):
    """The slice of a failed comparison worth looking at, as plain JSON-ready data.

    For 4-d arrays (N, C, H, W) it is the (H, W) image of the sample and channel
    holding the worst difference (the first when the shapes differ; the leading
    axes likewise for any array of more than two), at most
    ``FIGURE_SIDE`` square around that element; 1-d and 2-d arrays are shown as
    they are, cropped the same way.

    Returns
    -------
    dict
        ``what``; ``index``, the (n, c) of the slice or ``None``; ``origin``,
        the (row, column) of its top-left element; ``expected`` and ``actual``,
        lists of rows (``None`` for NaN or inf); ``expected_shape`` and
        ``actual_shape``; ``inputs``, each input's shape (arrays) or value
        (parameters); ``input_size``, their total number of elements.
    """
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    index = None
    if actual.shape == expected.shape and actual.size:
        gap = np.where(np.isfinite(actual), np.abs(actual - expected), np.inf)
        worst = np.unravel_index(int(np.argmax(gap)), gap.shape)
    else:
        worst = (0,) * expected.ndim
    if expected.ndim > 2:  # (N, C, H, W): the image of one sample and channel
        index = tuple(int(i) for i in worst[:-2])
        fits = actual.ndim == expected.ndim and all(i < n for i, n in zip(index, actual.shape))
        actual = actual[index] if fits else np.zeros((0, 0))
        expected, worst = expected[index], worst[-2:]
    window = _figure_window(expected.shape, worst)
    inputs = dict(context.inputs) if context is not None else {}
    return {
        "what": what, "index": index, "origin": [int(part.start) for part in window],
        "expected": _rows(expected, window), "actual": _rows(actual, window),
        "expected_shape": list(expected.shape), "actual_shape": list(actual.shape),
        "inputs": {name: _described(value) for name, value in inputs.items()},
        "input_size": int(sum(np.size(v) for v in inputs.values() if isinstance(v, np.ndarray))),
    }


def _figure_window(shape, centre):
    """Slices of at most FIGURE_SIDE along each of the last two axes, holding ``centre``."""
    window = []
    for size, at in zip(shape[-2:], centre[-2:]):
        start = min(max(at - FIGURE_SIDE // 2, 0), max(size - FIGURE_SIDE, 0))
        window.append(slice(start, start + FIGURE_SIDE))
    return window


def _rows(array, window):
    """A 0-, 1- or 2-d array, cropped to ``window``, as a list of rows of rounded floats."""
    array = np.atleast_2d(array[tuple(window)] if array.ndim == len(window) else array)
    array = array.reshape(-1, array.shape[-1]) if array.size else np.zeros((0, 0))
    return [[float(f"{v:.6g}") if np.isfinite(v) else None for v in row] for row in array]


def _described(value):
    if isinstance(value, np.ndarray):
        return {"shape": list(value.shape), "dtype": str(value.dtype)}
    if isinstance(value, dict):
        return {key: item for key, item in value.items() if isinstance(item, (int, float, str, bool))}
    return value if isinstance(value, (int, float, str, bool)) else repr(value)[:limits.PARAMETER_CHARACTERS]


def _as_array(value, what):
    if value is None:
        fail_with_hints(say("none", what=what), [hint("return.none")])
    try:
        array = np.asarray(value)
    except Exception as error:  # a ragged list, an object that refuses conversion
        refused = error
    else:
        refused = None
    if refused is not None:  # failing outside the except block keeps the message alone
        fail(say("not_array", what=what, kind=type(value).__name__, error=refused))
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        fail(say("not_numeric", what=what, kind=type(value).__name__, dtype=array.dtype))
    return array


#: The dtypes a returned array may have: SPEC lets a layer given float32 answer in float32 or float64.
RETURNED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_returned(value, what, expected, *, context=None, tolerance=None):
    """The return contract of one value, checked before any of its values is judged.

    A returned value must be a numpy array (a 0-d array or numpy float for a
    scalar), of a real floating dtype (float32 or float64), of the expected
    shape. Everything that judges a returned value starts here, so a value of
    the wrong kind can never pass a check of its statistics or of its real part.

    Parameters
    ----------
    value : object
        What the implementation returned.
    what : str
        Its name in messages, e.g. ``"dx"``.
    expected : ndarray or tuple of int
        The expected value (its shape is what counts; with an array, a wrong
        shape or dtype is explained by the detectors) or the expected shape.
    context, tolerance
        As for :func:`assert_close`.

    Returns
    -------
    ndarray
        ``value`` as an array, unchanged.
    """
    full = isinstance(expected, np.ndarray)
    shape = expected.shape if full else tuple(expected)
    if value is None:
        fail_with_hints(say("none", what=what), [hint("return.none")])
    scalar = isinstance(value, np.floating) and shape == ()
    if not isinstance(value, np.ndarray) and not scalar:
        array = _as_array(value, what)  # says why a list of objects or of strings is not numbers
        fail(say("not_ndarray", what=what, kind=type(value).__name__, shape=shape, dtype=array.dtype))
    array = np.asarray(value)

    def explained():  # the detectors' hints, which need the expected values
        if not full:
            return []
        return diagnostics.explain(array, expected, what, context, tolerance or TOLERANCE.get(array.dtype, 1e-5))

    if np.iscomplexobj(array):
        fail_with_hints(say("complex", what=what, dtype=array.dtype), [hint("dtype.complex")])
    if array.dtype not in RETURNED_DTYPES:
        if array.dtype == object or not np.issubdtype(array.dtype, np.number):
            fail(say("not_numeric", what=what, kind=type(value).__name__, dtype=array.dtype))
        hints = [line for line in (explained() if array.shape == shape else []) if line.tag == "dtype"]
        fail_with_hints(say("not_float", what=what, dtype=array.dtype), hints or [hint("dtype.changed")])
    if array.shape != shape:
        hints = explained() if full else [line for line in [diagnostics.explain_shape(array.shape, shape, what)] if line]
        fail_with_hints(say("shape", what=what, actual=array.shape, expected=shape), hints)
    return array


def _index_text(index, what, context):
    """An index named by the array's axes: ``(n, f, h, w) = (0, 1, 2, 3)`` for a conv output."""
    return diagnostics.index_label(index, what, context.area if context else "")


#: Arrays of at most this many values are shown whole in a failure message (the smallest failing
#: inputs of the property tests give such arrays).
WHOLE_ARRAY = 12


def _whole(array):
    """A small array on one line, rounded."""
    return np.array2string(np.asarray(array, dtype=np.float64), precision=4, suppress_small=True,
                           separator=", ", max_line_width=10_000).replace("\n", "")


def _excerpt(array, index):
    """Up to five values along the last axis around ``index``, rounded."""
    if array.ndim == 0:
        return "[]"
    last = index[-1]
    row = array[index[:-1]][max(last - 2, 0):last + 3]
    return np.array2string(np.asarray(row, dtype=np.float64), precision=4, suppress_small=True,
                           max_line_width=200)


def assert_close(actual, expected, what, *, precision=None, context=None):
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
    context : convgrader.judging.diagnostics.Context, optional
        What the test knows about the call (inputs, parameters, the
        submission's own functions), so that a failure can say what is likely
        wrong: see :mod:`convgrader.judging.diagnostics`.
    """
    expected = np.asarray(expected)
    actual = check_returned(actual, what, expected, context=context,
                            tolerance=TOLERANCE[working_precision(expected, precision=precision)])
    tolerance = TOLERANCE[working_precision(actual, expected, precision=precision)]
    bad = ~np.isfinite(actual)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        kinds = "/".join(kind for kind, present in
                             (("NaN", np.isnan(actual).any()), ("inf", np.isinf(actual).any())) if present)
        fail_with_hints(say("nonfinite", what=what, kinds=kinds, count=int(bad.sum()), total=actual.size,
                            index=_index_text(index, what, context)),
                        diagnostics.explain(actual, expected, what, context, tolerance),
                        comparison_figure(actual, expected, what, context))
    error = scaled_error(actual, expected)
    if error > tolerance:
        diff = np.abs(actual.astype(np.float64) - expected)
        index = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
        index = tuple(int(i) for i in index)
        scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-12)
        lines = [say("values", what=what, error=error, tolerance=tolerance,
                     bad=int(np.sum(diff > tolerance * scale)), total=max(actual.size, 1),
                     index=_index_text(index, what, context), got=float(actual[index]),
                     wanted=float(expected[index]))]
        if 1 < actual.size <= WHOLE_ARRAY:
            lines.append(say("whole", actual=_whole(actual), expected=_whole(expected)))
        elif actual.size > 1:
            lines.append(say("excerpt", actual=_excerpt(actual, index), expected=_excerpt(expected, index)))
        lines.append(say("rel_error", rel=rel_error(actual, expected)))
        fail_with_hints(lines, diagnostics.explain(actual, expected, what, context, tolerance),
                        comparison_figure(actual, expected, what, context))


def _pool_windows(x, pool_param):
    """Every pooling window of ``x`` and which of its elements are its maxima.

    Returns
    -------
    positions : ndarray of int, (N, C, H', W', ph * pw)
        The flat index in ``x`` of each element of each window.
    is_max : ndarray of bool, (N, C, H', W', ph * pw)
        Whether that element equals its window's maximum (ties: several).
    """
    height, width, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    flat = np.arange(x.size).reshape(x.shape)
    view = lambda a: np.lib.stride_tricks.sliding_window_view(a, (height, width), axis=(2, 3))[  # noqa: E731
        :, :, ::stride, ::stride].reshape(*a.shape[:2], -1, height * width)
    windows, positions = view(x), view(flat)
    rows = 1 + (x.shape[2] - height) // stride
    shape = (*x.shape[:2], rows, windows.shape[2] // rows, height * width)
    is_max = windows == windows.max(axis=-1, keepdims=True)
    return positions.reshape(shape), is_max.reshape(shape)


def nearest_valid_pool_gradient(dx, x, dout, pool_param):
    """The valid max-pool gradient closest to ``dx`` (largest difference smallest).

    SPEC's tie rule: each window's upstream value goes to its maxima only, in
    non-negative fractions summing to one, and overlapping windows add up. A
    window with one maximum leaves no choice; the fractions of the tied windows
    are found by a small linear program minimising max |dx - valid|, so a
    submission is judged against the routing nearest to its own: any valid one
    passes, anything else (e.g. the whole value to every tied maximum) fails.

    Parameters
    ----------
    dx : ndarray (N, C, H, W)
        The gradient under test.
    x : ndarray (N, C, H, W)
        The forward's input, which decides the maxima.
    dout : ndarray (N, C, H', W')
        The upstream gradient.
    pool_param : dict
        ``pool_height``, ``pool_width``, ``stride``.

    Returns
    -------
    ndarray (N, C, H, W), float64
    """
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix, hstack, vstack

    x = np.asarray(x, dtype=np.float64)
    dout = np.asarray(dout, dtype=np.float64).ravel()
    positions, is_max = _pool_windows(x, pool_param)
    positions, is_max = positions.reshape(dout.size, -1), is_max.reshape(dout.size, -1)
    tied = is_max.sum(axis=1) > 1
    valid = np.zeros(x.size)
    single = ~tied
    np.add.at(valid, positions[single][is_max[single]], dout[single])
    if tied.any():
        window, slot = np.nonzero(is_max & tied[:, None])  # one LP variable per (tied window, maximum)
        target = positions[window, slot]
        touched, row = np.unique(target, return_inverse=True)
        gap = np.asarray(dx, dtype=np.float64).ravel()[touched] - valid[touched]
        routed = coo_matrix((dout[window], (row, np.arange(window.size))), shape=(touched.size, window.size))
        ones = np.ones((touched.size, 1))
        # |gap - routed @ fractions| <= bound, written as two one-sided rows; minimise bound.
        upper = hstack([routed, -ones]).tocsr()
        lower = hstack([-routed, -ones]).tocsr()
        windows, group = np.unique(window, return_inverse=True)
        sums = hstack([coo_matrix((np.ones(window.size), (group, np.arange(window.size))),
                                  shape=(windows.size, window.size)), np.zeros((windows.size, 1))]).tocsr()
        cost = np.zeros(window.size + 1)
        cost[-1] = 1.0
        solved = linprog(cost, A_ub=vstack([upper, lower]), b_ub=np.concatenate([gap, -gap]),
                         A_eq=sums, b_eq=np.ones(windows.size), bounds=(0, None), method="highs")
        if solved.status != 0:
            raise RuntimeError(f"the tie-routing linear program failed: {solved.message}")
        np.add.at(valid, target, dout[window] * solved.x[:-1])
    return valid.reshape(x.shape)


def assert_pool_gradient_close(actual, expected, x, dout, pool_param, what="dx", *, precision=None, context=None):
    """Compare a max-pool gradient, accepting every valid routing of tied maxima.

    Without ties the routing is unique and this is :func:`assert_close`
    against ``expected``; with ties, against the valid gradient nearest to
    ``actual`` (see :func:`nearest_valid_pool_gradient`).

    Parameters
    ----------
    actual : array_like
        The dx returned.
    expected : ndarray
        One valid dx (the answer key's, first maximum in row-major order).
    x, dout, pool_param
        The forward's input and parameters and the upstream gradient.
    precision, context
        As for :func:`assert_close`.
    """
    expected = np.asarray(expected)
    actual = check_returned(actual, what, expected, context=context)
    positions, is_max = _pool_windows(np.asarray(x, dtype=np.float64), pool_param)
    if not ((is_max.sum(axis=-1) > 1).any() and np.all(np.isfinite(actual))):
        assert_close(actual, expected, what, precision=precision, context=context)
        return
    try:
        assert_close(actual, nearest_valid_pool_gradient(actual, x, dout, pool_param), what, precision=precision,
                     context=context)
    except pytest.fail.Exception as raised:
        said, figure = said_of(raised), getattr(raised, "figure", None)
    else:
        return
    fail(together(*said.parts, say("tie_rule", what=what)), figure)  # the figure stays with the failure


def assert_all_close(actuals, expected, names, *, precision=None, context=None):
    """Compare several results at once (the gradients of a backward pass) and report them together.

    The first failing value is reported in full; the others are named, with
    their hints, since a hint about one gradient often points at the bug in all.

    Parameters
    ----------
    actuals : sequence
        The values returned, in the order of ``names``.
    expected : mapping
        The expected values by name (a fixture case).
    names : sequence of str
        The names, e.g. ``("dx", "dw", "db")``.
    precision, context
        As for :func:`assert_close`.
    """
    failures, figure = [], None
    for name, actual in zip(names, actuals):
        try:
            assert_close(actual, expected[name], name, precision=precision, context=context)
        except pytest.fail.Exception as raised:
            failures.append((name, said_of(raised)))
            figure = figure or getattr(raised, "figure", None)  # the value reported in full
    if not failures:
        return
    lines = list(failures[0][1].parts)
    if len(failures) > 1:
        lines.append(say("also_wrong", names=", ".join(name for name, _ in failures[1:])))
        seen = {line.tag for line in lines if line.tag}
        for _, said in failures[1:]:
            for line in said.parts:  # the others' hints, by tag: no text is read back
                if line.tag and line.tag not in seen:
                    seen.add(line.tag)
                    lines.append(line)
    fail(together(*lines), figure)


def assert_shape(value, shape, what):
    """Fail the test unless ``value`` is an array of exactly ``shape`` (model parameters)."""
    found = np.shape(value)
    if found != tuple(shape):
        explained = diagnostics.explain_shape(found, shape, what)
        fail_with_hints(say("shape", what=what, actual=found, expected=tuple(shape)),
                        [explained] if explained else [])


def assert_unchanged(after, before, what):
    """Fail the test if an input array was modified in place."""
    after = np.asarray(after)
    if not np.array_equal(after, before, equal_nan=True):
        changed = int(np.sum(after != before)) if after.shape == np.shape(before) else after.size
        fail_with_hints(say("modified", what=what, count=changed, total=after.size),
                        [hint("inplace.changed")])


def assert_dtype(value, dtype, what):
    """Fail the test unless ``value`` is an array of exactly ``dtype`` (model parameters, gradients)."""
    found = np.asarray(value).dtype
    if found != np.dtype(dtype):
        fail_with_hints(say("dtype", what=what, actual=found, expected=np.dtype(dtype)), [hint("dtype.changed")])


def unpack(result, count, what, *, like=None, context=None):
    """Check that a function returned ``count`` items, each as its contract says, and return them.

    This is where the return contract is checked, before any value is judged:
    the arity first, then (with ``like``) the type, dtype and shape of every
    returned array (see :func:`check_returned`).

    Parameters
    ----------
    result : object
        The function's return value.
    count : int
        How many items the contract says it returns.
    what : str
        The names of the items as the contract says them, e.g. ``"(out, cache)"``.
    like : sequence, optional
        One entry per item: the expected array (or its shape as a tuple) for
        an array, None for an opaque item such as a cache. Items returned in
        another order are recognised and reported as such.
    context : convgrader.judging.diagnostics.Context, optional
        Explains a wrong shape or dtype (see :func:`assert_close`).
    """
    example = what.strip("()")
    if result is None:
        fail_with_hints(say("returned_none", what=what), [hint("return.none")])
    if not isinstance(result, (tuple, list)) or len(result) != count:
        kind = type(result).__name__
        got = say("got_sequence", kind=kind, length=len(result)) if isinstance(result, (tuple, list)) \
            else say("got_object", kind=kind)
        fail_with_hints(say("returned_wrong", got=got, count=count, what=what),
                        [hint("return.count", count=count, what=what, example=example)])
    if like is not None:
        wanted = [None if want is None else tuple(np.shape(want)) if isinstance(want, np.ndarray) else tuple(want)
                  for want in like]
        order = diagnostics.explain_order([diagnostics.shape_or_none(item) for item in result], wanted, what)
        if order:
            fail_with_hints(say("returned_order", what=what), [order])
        for name, item, want in zip(example.split(","), result, like):
            if want is not None:
                check_returned(item, name.strip(), want, context=context)
    return tuple(result)


#: Set by :func:`cache_from` when the backward of the running test is judged on its own (the
#: note its failure carries); :func:`graded_alone_note` reads and clears it.
_graded_alone = {"note": None}


def cache_from(forward, *args):
    """Run the implementation's own forward to get the cache its backward needs.

    When the forward fails on this input (it raises, is not written yet, hangs
    under ``--isolate``, or returns no ``(out, cache)``), the backward is still
    judged on its own: it gets the conventional cache, the forward's arguments
    in order (``(x, w, b, conv_param)``, ``(x, pool_param)``, ...), as the
    skeleton's docstrings promise. A forward that returns ``(cache, out)``
    gives its own cache. The forward's own tests charge its failure; a failure
    of the backward then says how it was called (:func:`graded_alone_note`).

    Parameters
    ----------
    forward : callable
        The implementation's forward (in this process or a sandbox's).
    *args
        The forward's arguments, in the order of its signature.

    Returns
    -------
    object
        The cache to hand to the implementation's backward.
    """
    name = getattr(forward, "__name__", "the forward function")
    call = getattr(forward, "for_cache", forward)  # a sandboxed forward: outside the naive-means-naive rule
    _graded_alone["note"] = None
    try:
        result = call(*args)
    except sandbox.GradingFailed:
        raise  # the machine's fault, never the submission's
    except NotImplementedError:
        reason = say("not_implemented")
    except Exception as error:  # raised (or hung, under --isolate) in the submission's forward
        reason = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
    else:
        if isinstance(result, (tuple, list)) and len(result) == 2:
            first, second = (diagnostics.shape_or_none(item) for item in result)
            if first is None and second is not None:
                return result[0]  # (cache, out): its own cache; the order is charged in the forward's tests
            return result[1]
        reason = say("returned_wrong", got=type(result).__name__, count=2, what="(out, cache)")
    cache = tuple(args)
    names = ", ".join(AREAS[BY_NAME[name].area].arguments) if name in BY_NAME else "the forward's arguments"
    _graded_alone["note"] = say("graded_alone", forward=name, reason=untrusted.shown(reason, 300, newlines=False),
                                cache=f"({names})")
    return cache


def graded_alone_note():
    """The note for a failed backward that got the conventional cache in this test, or None; clears it."""
    note, _graded_alone["note"] = _graded_alone["note"], None
    return note


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
        hints = [hint("nan.found")] if not np.all(np.isfinite(actual)) else []
        if not hints and np.all(expected != 0):
            ratios = actual / expected
            if np.allclose(ratios, ratios.flat[0], rtol=1e-3) and not 0.5 < ratios.flat[0] < 2:
                hints = [diagnostics.scale_hint(what, float(ratios.flat[0]))]
        fail_with_hints(say("within", what=what, actual=np.round(actual, 6).tolist(),
                            expected=np.round(expected, 6).tolist(), tolerance=tolerance, worst=worst),
                        hints)
