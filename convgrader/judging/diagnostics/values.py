"""Detectors for any array of wrong values: untouched, non-finite, integer, scaled, offset, transposed."""

import itertools

import numpy as np

from convgrader.judging.diagnostics.context import close
from convgrader.judging.diagnostics.roles import axis_letter, axis_names
from convgrader.messages import hint, say


def permuted(actual, expected, what, context, tolerance):
    """The expected array with some axes exchanged (a wrong transpose or reshape order)."""
    if actual.ndim != expected.ndim or actual.ndim < 2 or sorted(actual.shape) != sorted(expected.shape):
        return []
    for perm in itertools.permutations(range(expected.ndim)):
        if perm == tuple(range(expected.ndim)):
            continue
        candidate = expected.transpose(perm)
        if candidate.shape == actual.shape and close(actual, candidate, tolerance) \
                and not close(actual, expected, tolerance):
            moved = tuple(axis for axis, source in enumerate(perm) if axis != source)
            axes = axis_names(what, context.area, expected.ndim)
            names = [axis_letter(axes, a) for a in moved]
            return [hint("axes.transposed", what=what, axes=", ".join(names))]
    return []


def nonfinite(actual, expected, what, context, tolerance):
    if np.issubdtype(actual.dtype, np.floating) and not np.all(np.isfinite(actual)):
        return [hint("nan.found")]
    return []


def integer_dtype(actual, expected, what, context, tolerance):
    if np.issubdtype(actual.dtype, np.integer) and np.issubdtype(expected.dtype, np.floating):
        return [hint("dtype.integer", what=what, dtype=actual.dtype)]
    return []


def named_factor(k, sizes, factors=None):
    """How ``k`` relates to a known size (``" (= N (the batch size))"``) or value, as said, or ""."""
    candidates = {name: (value, name) for name, value in (factors or {}).items()}
    for name, size in sizes.items():
        short = name.split(" ")[0]
        candidates[name] = (size, say("size_batch") if name == "N" else name)
        candidates[f"1/{short}"] = (1 / size, f"1/{short}")
        if size > 1:
            candidates[f"std {short}"] = (np.sqrt((size - 1) / size), say("factor_unbiased_std", m=short))
            candidates[f"var {short}"] = (size / (size - 1), say("factor_unbiased_var", m=short))
    for value, named in candidates.values():
        if value != 1 and abs(k / value - 1) < 1e-4:
            return say("factor_named", name=named)
    return ""


#: Factors that mean something on their own: a 0.5 lost or doubled, a sign flipped.
PLAIN_FACTORS = (2.0, 0.5, -1.0)


def scale_hint(what, factor, sizes=None, centered="", factors=None):
    """The hint for a value that is ``factor`` times what it should be."""
    return hint("scale.factor", what=what, factor=factor, named=named_factor(factor, sizes or {}, factors),
                centered=centered)


def constant_factor(actual, expected, what, context, tolerance):
    """actual = k · expected for one k ≠ 1 (a missing 1/N, a sum for a mean, ...).

    A normalization's output is compared after removing beta, so that a wrong
    scale of the normalized values shows as a factor.
    """
    a, e = actual.astype(np.float64), expected.astype(np.float64)
    centered = ""
    if context.area in ("spatial_batchnorm", "spatial_groupnorm") and what == "out" and a.ndim == 4:
        beta = np.asarray(context.inputs["beta"], dtype=np.float64).reshape(1, -1, 1, 1)
        a, e, centered = a - beta, e - beta, "(out - beta) "
    a, e = a.ravel(), e.ravel()
    energy = float(e @ e)
    if a.shape != e.shape or energy == 0.0 or not np.all(np.isfinite(a)):
        return []
    k = float(a @ e) / energy
    if abs(k - 1) <= 1e-3 or abs(k) < 1e-12 or not close(a, k * e, tolerance):
        return []
    named = named_factor(k, context.sizes, context.factors)
    if a.size == 1 and not named and not any(abs(k / f - 1) < 1e-4 for f in PLAIN_FACTORS):
        return []  # any two numbers differ by some factor: say so only when it means something
    return [scale_hint(what, k, context.sizes, centered, context.factors)]


def untouched(actual, expected, what, context, tolerance):
    """All zeros, or an input handed back as it came: nothing was computed.

    Named before (and instead of) any pattern hint: an array the code never
    wrote matches some patterns by accident (the backward at stride 1 gives
    zeros too), and those hints would send the student the wrong way.
    """
    if actual.size < 2 or actual.shape != expected.shape or not np.any(expected):
        return []
    if not np.any(actual):
        return [hint("unfinished.zeros", what=what)]
    given = [("dout", context.dout)] + list(context.inputs.items())
    for name, value in given:
        if isinstance(value, np.ndarray) and value.shape == actual.shape and np.array_equal(actual, value) \
                and not close(value, expected, tolerance):
            return [hint("unfinished.unchanged", what=what, given=name)]
    return []


#: Per area: the input added to each channel of the output, how a channel is called, the formula.
OFFSETS = {"conv": ("b", say("word_filter"), "out[n, f, i, j] = sum(window · w[f]) + b[f]"),
           "spatial_batchnorm": ("beta", say("word_channel"), "out = gamma · x_hat + beta"),
           "spatial_groupnorm": ("beta", say("word_channel"), "out = gamma · x_hat + beta")}


def offset(actual, expected, what, context, tolerance):
    """An output off by its bias (or shift) in every channel: never added, or added twice.

    For a convolution, any other constant per filter also points at the bias
    (b[0] for every filter, a sum of b); a normalization that is off by a
    constant per channel may have a wrong mean instead, so it is named only
    when the constant is beta itself.
    """
    if what != "out" or context.area not in OFFSETS or actual.ndim != 4 or actual.shape != expected.shape:
        return []
    name, channel, formula = OFFSETS[context.area]
    offset = np.asarray(context.inputs.get(name), dtype=np.float64)
    if offset.size != actual.shape[1] or not np.any(offset):
        return []
    offset = offset.reshape(1, -1, 1, 1)
    a, e = actual.astype(np.float64), expected.astype(np.float64)
    if close(a, e - offset, tolerance):
        return [hint("bias.missing", what=what, name=name, channel=channel, formula=formula)]
    if close(a, e + offset, tolerance):
        return [hint("bias.twice", what=what, name=name, channel=channel, formula=formula)]
    per_channel = (a - e).mean(axis=(0, 2, 3), keepdims=True)
    if context.area == "conv" and np.any(np.abs(per_channel) > tolerance * max(float(np.max(np.abs(e))), 1e-12)) \
            and close(a, e + per_channel, tolerance):
        return [hint("bias.constant", what=what, name=name, channel=channel, formula=formula,
                     example=float(per_channel[0, 0, 0, 0] + offset[0, 0, 0, 0]))]
    return []
