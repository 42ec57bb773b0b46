"""Detectors for an array of the wrong shape: another geometry, a reduction, a reshape, a crop."""

import itertools

import numpy as np

from convgrader.judging.diagnostics.context import close
from convgrader.judging.diagnostics.roles import NCHW, axis_letter, is_gradient, shape_rule
from convgrader.messages import hint, say


def shape_of_other_geometry(actual, expected, what, context, tolerance):
    """An output (or dx) whose (H, W) another stride, pad, window or formula would give."""
    window = context.window
    if window is None or actual.ndim != 4 or expected.ndim != 4 or actual.shape[:2] != expected.shape[:2]:
        return []
    got = actual.shape[2:]
    x_shape = np.shape(context.inputs.get("x"))
    if len(x_shape) != 4:
        return []
    h, w = x_shape[2:]
    if what in context.gradient_of:  # dx: the input's own size
        extra = 2 * window.pad
        if window.pad and got == (h + extra, w + extra):
            return [hint("padding.uncropped", what=what, extra=extra)]
        return []
    wanted = window.output_size(h, w)
    found = []
    if window.height != window.width and got == window.output_size(h, w, height=window.width,
                                                                   width=window.height):
        found.append(hint("axes.window_swapped", what=what))
    if got == window.output_size(h, w, plus=0):  # the commonest slip: say it alone
        return found + [hint("output_shape.formula", what=what, got=got, wanted=wanted,
                             variant=say("variant_no_plus_one"), formula=window.formula)]
    # Only the strides and pads a slip of the pen gives: the stride ignored (1) or
    # taken from the window, the padding forgotten (0) or added on one side only.
    for stride in sorted({1, window.height} - {window.stride}):
        if got == window.output_size(h, w, stride=stride):
            found.append(hint("stride.shape", what=what, other=stride, stride=window.stride,
                              formula=window.formula))
    if not window.pooling and window.pad:
        one_side = (1 + (h + window.pad - window.height) // window.stride,
                    1 + (w + window.pad - window.width) // window.stride)
        if got == window.output_size(h, w, pad=0):
            found.append(hint("padding.shape", what=what, other=0, pad=window.pad))
        elif got == one_side:
            found.append(hint("padding.shape", what=what, other=say("pad_one_side", pad=window.pad),
                              pad=window.pad))
    if not found and got != wanted:
        off = say("variant_one_too_many") if got == (wanted[0] + 1, wanted[1] + 1) else ""
        found.append(hint("output_shape.formula", what=what, got=got, wanted=wanted, variant=off,
                          formula=window.formula))
    return found


def reduction_shape(actual, expected, what, context, tolerance):
    """Reduced over too few axes (an extra axis kept) or too many (one lost).

    A gradient should have been summed over the extra axes, anything else
    (a running average) averaged. Extra axes of size 1 are a matter of shape,
    not of reduction: :func:`reshaped` names them.
    """
    gradient = is_gradient(what, context)
    reduce = np.sum if gradient else np.mean

    def named(extra):
        if gradient:
            return [hint("axes.not_reduced", what=what, axes=_axes_named(extra, actual))]
        return [hint("axes.not_averaged", what=what, axes=_axes_named(extra, actual))]

    if actual.ndim == expected.ndim:  # keepdims: sizes > 1 where the expected has 1
        extra = tuple(a for a in range(actual.ndim) if expected.shape[a] == 1 and actual.shape[a] > 1)
        same = all(actual.shape[a] == expected.shape[a] for a in range(actual.ndim) if a not in extra)
        if extra and same and close(reduce(actual, axis=extra, keepdims=True), expected, tolerance):
            return named(extra)
    if actual.ndim > expected.ndim:
        for kept in itertools.combinations(range(actual.ndim), expected.ndim):
            if tuple(actual.shape[a] for a in kept) != expected.shape:
                continue
            extra = tuple(a for a in range(actual.ndim) if a not in kept)
            if all(actual.shape[a] == 1 for a in extra):
                continue
            if close(reduce(actual, axis=extra), expected, tolerance):
                return named(extra)
    if actual.ndim < expected.ndim and actual.size != expected.size:
        for kept in itertools.combinations(range(expected.ndim), actual.ndim):
            if tuple(expected.shape[a] for a in kept) == actual.shape:
                lost = [a for a in range(expected.ndim) if a not in kept]
                return [hint("axes.over_reduced", what=what, size=expected.shape[lost[0]])]
    return []


def _axes_named(axes, array):
    """``"axis 0 (size 2)"``, or ``"axes N (size 2), H (size 3)"`` for an (N, C, H, W) array.

    ``array`` is the submission's, whose extra axes are those of dout or x,
    (N, C, H, W), not those of the parameter it should have reduced to.
    """
    names = [axis_letter(NCHW if array.ndim == 4 else None, a) for a in axes]
    sized = [say("axis_sized", name=name, size=array.shape[a]) for name, a in zip(names, axes)]
    if len(sized) == 1:
        return say("axis_one", axis=sized[0])
    return say("axes_many", axes=", ".join(map(str, sized[:-1])), last=sized[-1])


def reshaped(actual, expected, what, context, tolerance):
    if actual.size == expected.size and actual.shape != expected.shape \
            and close(actual.reshape(expected.shape), expected, tolerance):
        rule = shape_rule(what, context)
        if rule:
            return [hint("output_shape.reshaped_role", what=what, actual=actual.shape, expected=expected.shape,
                         rule=rule)]
        return [hint("output_shape.reshaped", what=what, actual=actual.shape, expected=expected.shape)]
    return []


def empty_crop(actual, expected, what, context, tolerance):
    """A result empty along H or W when pad = 0: the crop ``a[pad:-pad]`` is ``a[0:0]``."""
    window = context.window
    if window is None or window.pad or actual.ndim != 4 or actual.shape[:2] != expected.shape[:2]:
        return []
    if 0 in actual.shape[2:] and 0 not in expected.shape[2:]:
        return [hint("padding.empty_crop", what=what, shape=actual.shape)]
    return []


def padded_every_axis(actual, expected, what, context, tolerance):
    """An input-shaped result 2·pad larger along every axis: ``np.pad(x, pad)`` padded N and C too."""
    window = context.window
    if window is None or not window.pad or what not in context.gradient_of or actual.ndim != 4:
        return []
    if actual.shape == tuple(size + 2 * window.pad for size in expected.shape):
        return [hint("padding.every_axis", what=what, shape=actual.shape, extra=2 * window.pad)]
    return []


def explain_shape(actual, expected, what):
    """A hint for an array (a model parameter) created with the wrong shape, or None.

    Parameters
    ----------
    actual, expected : tuple of int
        The shape found and the shape the contract gives.
    """
    actual, expected = tuple(actual), tuple(expected)
    if len(actual) == len(expected) and sorted(actual) == sorted(expected) and actual != expected:
        return hint("axes.transposed", what=what, axes=say("axes_all"))
    if len(actual) == len(expected):
        differs = [a for a in range(len(actual)) if actual[a] != expected[a]]
        if len(differs) == 1 and expected[differs[0]] and actual[differs[0]] % expected[differs[0]] == 0:
            axis = differs[0]
            ratio = actual[axis] // expected[axis]
            why = say("output_shape.pooled") if ratio == 4 else ""
            return hint("output_shape.times", what=what, ratio=ratio, axis=axis, why=why)
    return None
