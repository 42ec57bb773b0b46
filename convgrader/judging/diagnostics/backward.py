"""Detectors for a backward whose forward is itself wrong: is the gradient right for that forward?"""

import numpy as np

from convgrader.judging.diagnostics.context import close
from convgrader.messages import hint


def forward_first(actual, expected, what, context, tolerance):
    """A backward test whose forward is wrong: is the gradient at least right for that forward?"""
    if context.forward is None or context.out is None or what not in context.gradient_of:
        return []
    forward_name = getattr(context.forward, "__name__", "the forward function")
    out = np.asarray(context.call_forward()[0])
    if close(out, context.out, tolerance):
        return []
    name = context.gradient_of[what]
    point = context.inputs[name]
    dout = context.dout
    if dout is None or out.shape != dout.shape or np.asarray(point).dtype != np.float64 \
            or actual.shape != np.shape(point):
        return [hint("forward.also_wrong", forward=forward_name)]
    direction = np.random.RandomState(0).randn(*np.shape(point))
    step = 1e-6

    def loss(t):
        moved = np.asarray(context.call_forward(**{name: point + t * direction})[0], dtype=np.float64)
        return float(np.sum(moved * dout))

    numeric = (loss(step) - loss(-step)) / (2 * step)
    analytic = float(np.sum(actual.astype(np.float64) * direction))
    if abs(numeric - analytic) <= 1e-5 * max(abs(numeric), abs(analytic), 1e-8):
        return [hint("forward.consistent", what=what, forward=forward_name)]
    return [hint("forward.also_wrong", forward=forward_name)]
