"""Recognizing what a wrong result says about the code that produced it.

A comparison that fails hands its two arrays (and, when the test gives it, a
:class:`Context` describing the call) to :func:`explain`, which runs the
detectors and returns the hints of those that recognise their pattern.
Exceptions raised by the code under test go to :func:`explain_exception`;
values returned in the wrong order or number to :mod:`.returns`.

The package is split by concern:

========================  ==================================================
``context``               :class:`Window`, :class:`Context`, ``close``
``roles``                 what each compared array is, the names of its axes
``shapes``                an array of the wrong shape
``values``                any array of wrong values (zeros, NaN, a factor, ...)
``windows``               sliding windows: padding, stride, routing, overlap
``normalization``         batch and group norm: statistics, their gradient
``backward``              a backward judged against its own (wrong) forward
``exceptions``            exceptions, read from numpy's and Python's messages
``returns``               return values in the wrong order or number
========================  ==================================================

Rules every detector keeps (a hint that points at the wrong bug is worse than
none, so these are what a reviewer checks a new detector against):

1. **No hint without its cause.** A detector claims a cause only when that
   cause, applied to the expected result, reproduces the student's whole
   result within the comparison's tolerance (or, for an exception, when the
   message can only come from it in this assignment). A random error of the
   same size must leave it silent: each detector has such a negative test in
   ``tests/selftest/test_diagnostics.py`` and a mutant that asserts both.
2. **Evidence, not code.** A detector looks at arrays, the test's inputs and
   exception texts. When it needs the submission's behaviour it calls the
   submission's own functions (given in the context); it never reads the
   submission's code or its caches, and never computes a graded layer itself.
3. **Order.** ``FIRST_DETECTORS`` run first and, when one fires, its hint is
   shown alone (an untouched array matches other patterns by accident). Then
   ``SHAPE_DETECTORS`` when the shapes differ, else ``VALUE_DETECTORS``, in
   the order of those tuples: specific causes before general ones (an integer
   dtype before a factor, a shift before a border band). At most
   :data:`MOST_HINTS` hints, at most one per tag.
4. **Silent on its own failure.** A detector that raises is skipped: it must
   never hide the failure it was asked to explain.
"""

import numpy as np

from convgrader.judging.diagnostics.backward import forward_first
from convgrader.judging.diagnostics.context import Context, Window, close
from convgrader.judging.diagnostics.exceptions import explain_exception, explain_exception_text
from convgrader.judging.diagnostics.normalization import (correction_scale, eps_used, locality, normalized_over,
                                                          reduction_layout)
from convgrader.judging.diagnostics.returns import explain_order, shape_or_none
from convgrader.judging.diagnostics.roles import array_name, axis_names, index_label, role_of
from convgrader.judging.diagnostics.shapes import (empty_crop, explain_shape, padded_every_axis, reduction_shape,
                                                   reshaped, shape_of_other_geometry)
from convgrader.judging.diagnostics.values import (constant_factor, integer_dtype, nonfinite, offset, permuted,
                                                   scale_hint, untouched)
from convgrader.judging.diagnostics.windows import (border_only, overwritten_windows, pool_routing, pool_sources,
                                                    shifted, stride_ignored_in_backward, window_step)

__all__ = ["Context", "Window", "close", "explain", "explain_shape", "explain_order", "explain_exception",
           "explain_exception_text", "shape_or_none", "index_label", "array_name", "axis_names", "role_of", "scale_hint",
           "MOST_HINTS", "SHAPE_DETECTORS", "VALUE_DETECTORS", "FIRST_DETECTORS"]

#: Most hints shown for one failure: the first ones, in the order of the detectors.
MOST_HINTS = 2

#: Detectors in the order their hints are shown; each takes (actual, expected, what, context, tolerance).
SHAPE_DETECTORS = (empty_crop, padded_every_axis, permuted, reduction_shape, reshaped, shape_of_other_geometry)
VALUE_DETECTORS = (integer_dtype, nonfinite, permuted, offset, eps_used, constant_factor, shifted, border_only,
                   window_step, pool_sources, pool_routing, overwritten_windows, normalized_over,
                   correction_scale, reduction_layout, locality, stride_ignored_in_backward, forward_first)
#: Run before the others; when one of these explains the failure, its hint is shown alone.
FIRST_DETECTORS = (untouched,)


def _run(detector, actual, expected, what, context, tolerance):
    """One detector's hints; none when it fails itself (rule 4)."""
    try:
        return detector(actual, expected, what, context, tolerance)
    except Exception:  # a detector must never hide the failure it explains
        return []


def explain(actual, expected, what, context=None, tolerance=1e-5):
    """The hints for a failed comparison of ``actual`` with ``expected``.

    Parameters
    ----------
    actual, expected : ndarray
        What the code under test gave and what it should have given.
    what : str
        The value's name in messages (``"out"``, ``"dx"``, ...).
    context : Context, optional
        What the test knows about the call; without it only the
        context-free detectors run.
    tolerance : float
        The tolerance the comparison applied; detectors judge "equal" with it.

    Returns
    -------
    list of str
        At most :data:`MOST_HINTS` hint lines, at most one per tag.
    """
    context = context or Context()
    actual, expected = np.asarray(actual), np.asarray(expected)
    for detector in FIRST_DETECTORS:
        alone = _run(detector, actual, expected, what, context, tolerance)
        if alone:
            return alone[:MOST_HINTS]
    detectors = SHAPE_DETECTORS if actual.shape != expected.shape else VALUE_DETECTORS
    found, tags = [], set()
    for detector in detectors:
        for line in _run(detector, actual, expected, what, context, tolerance):
            if line.tag not in tags:  # each line is a hint, a Said that knows its tag
                tags.add(line.tag)
                found.append(line)
    return found[:MOST_HINTS]
