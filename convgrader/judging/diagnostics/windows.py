"""Detectors for sliding windows (convolution, pooling): padding, stride, routing, accumulation."""

import itertools

import numpy as np

from convgrader.judging.diagnostics.context import close
from convgrader.judging.diagnostics.roles import index_text
from convgrader.messages import hint


def spatial(actual, expected, context):
    return actual.ndim == 4 and actual.shape == expected.shape and context.window is not None


def overwritten_windows(actual, expected, what, context, tolerance):
    """Max-pool dx assigned (``=``) where windows overlap: one window's gradient survives, not their sum."""
    window, dout = context.window, context.dout
    if not spatial(actual, expected, context) or not window.pooling or dout is None or what != "dx":
        return []
    s, ph, pw = window.stride, window.height, window.width
    if s >= ph and s >= pw:
        return []  # windows that never overlap cannot overwrite each other
    dout = np.asarray(dout, dtype=np.float64)
    a = actual.astype(np.float64)
    atol = tolerance * max(float(np.max(np.abs(expected))), 1e-12)
    wrong = np.argwhere(np.abs(a - expected) > atol)
    if len(wrong) == 0:
        return []
    out_h, out_w = dout.shape[2:]
    for n, c, r, q in wrong:
        covering = [dout[n, c, i, j] for i in range(out_h) if i * s <= r < i * s + ph
                    for j in range(out_w) if j * s <= q < j * s + pw]
        if not 2 <= len(covering) <= 12 or not _one_of_a_sum(a[n, c, r, q], expected[n, c, r, q], covering, atol):
            return []
    n, c, r, q = (int(v) for v in wrong[0])
    return [hint("accumulate.overwritten", what=what, count=len(wrong), where=(n, c, r, q),
                 got=float(a[n, c, r, q]), wanted=float(expected[n, c, r, q]))]


def _one_of_a_sum(got, wanted, values, atol):
    """Whether ``got`` is one of ``values`` and ``wanted`` that one plus at least one other."""
    for k, value in enumerate(values):
        if abs(got - value) > atol:
            continue
        others = values[:k] + values[k + 1:]
        for size in range(1, len(others) + 1):
            for chosen in itertools.combinations(others, size):
                if abs(value + sum(chosen) - wanted) <= atol:
                    return True
    return False


def border_only(actual, expected, what, context, tolerance):
    """Wrong only in a band along the edges, right inside: a padding mistake."""
    window = context.window
    if not spatial(actual, expected, context) or window.pooling or window.pad == 0:
        return []
    scale = max(float(np.max(np.abs(expected))), 1e-12)
    bad = np.abs(actual.astype(np.float64) - expected) > tolerance * scale
    h, w = bad.shape[2:]
    # Windows that overlap the padding lie within pad rows (or columns) of an edge.
    for band in range(1, window.pad + 1):
        inside = bad[:, :, band:h - band, band:w - band]
        if inside.size * 4 < bad.size:  # too little inside to vouch for it
            break
        if not inside.any():
            return [hint("padding.border", band=band, what=what, pad=window.pad)]
    return []


def shifted(actual, expected, what, context, tolerance):
    """The expected array moved by a few rows or columns (padding on one side, a crop from a corner)."""
    window = context.window
    if not spatial(actual, expected, context) or window.pooling or window.pad == 0:
        return []
    h, w = expected.shape[2:]
    reach = 2 * window.pad
    for dh, dw in itertools.product(range(-reach, reach + 1), repeat=2):
        if (dh, dw) == (0, 0) or h - abs(dh) < 2 or w - abs(dw) < 2:
            continue
        # actual[h] should equal expected[h - dh] wherever both exist.
        mine = actual[:, :, max(dh, 0):h + min(dh, 0), max(dw, 0):w + min(dw, 0)]
        theirs = expected[:, :, max(-dh, 0):h - max(dh, 0), max(-dw, 0):w - max(dw, 0)]
        if mine.size * 2 >= actual.size and close(mine, theirs, tolerance) \
                and not close(mine, expected[:, :, max(dh, 0):h + min(dh, 0), max(dw, 0):w + min(dw, 0)],
                               tolerance):
            return [hint("padding.shift", what=what, shift=(dh, dw))]
    return []


def window_step(actual, expected, what, context, tolerance):
    """A forward output whose windows move by some step t instead of the stride s."""
    window = context.window
    if not spatial(actual, expected, context) or what in context.gradient_of:
        return []
    s = window.stride
    out_h, out_w = expected.shape[2:]
    for th, tw in ((1, 1), (window.height, window.width), (2, 2), (3, 3)):
        if (th, tw) == (s, s):
            continue
        rows = [i for i in range(out_h) if (i * th) % s == 0 and i * th // s < out_h]
        cols = [j for j in range(out_w) if (j * tw) % s == 0 and j * tw // s < out_w]
        pairs = [(i, j) for i in rows for j in cols if (i * th // s, j * tw // s) != (i, j)]
        if not pairs:
            continue
        mine = np.stack([actual[:, :, i, j] for i, j in pairs])
        theirs = np.stack([expected[:, :, i * th // s, j * tw // s] for i, j in pairs])
        same_place = np.stack([expected[:, :, i, j] for i, j in pairs])
        if np.ptp(theirs) <= tolerance * max(float(np.max(np.abs(expected))), 1e-12):
            continue  # the positions compared hold one value (the bias alone): any constant output fits
        if close(mine, theirs, tolerance) and not close(mine, same_place, tolerance):
            i, j = pairs[0]
            step = th if th == tw else f"({th}, {tw})"
            return [hint("stride.step", step=step, stride=s, what=what,
                         yours=f"[:, :, {i}, {j}]", theirs=f"[:, :, {i * th // s}, {j * tw // s}]")]
    return []


def pool_sources(actual, expected, what, context, tolerance):
    """Max-pool outputs taken from elements of x outside their windows, inside windows of another step."""
    window, x = context.window, context.inputs.get("x")
    if not spatial(actual, expected, context) or not window.pooling or what != "out" or x is None:
        return []
    x = np.asarray(x, dtype=np.float64)
    s, ph, pw = window.stride, window.height, window.width
    atol = tolerance * max(float(np.max(np.abs(x))), 1e-12)
    sources = {}
    for n, c, i, j in np.ndindex(*actual.shape):
        hits = np.argwhere(np.abs(x[n, c] - actual[n, c, i, j]) <= atol)
        if len(hits) == 1:
            sources[(n, c, i, j)] = tuple(int(v) for v in hits[0])

    def inside(step_h, step_w, key, source):
        _, _, i, j = key
        return i * step_h <= source[0] < i * step_h + ph and j * step_w <= source[1] < j * step_w + pw

    astray = {key: src for key, src in sources.items() if not inside(s, s, key, src)}
    if not astray or len(sources) < actual.size // 2:
        return []
    for th, tw in ((1, 1), (ph, pw), (2, 2), (3, 3)):
        if (th, tw) != (s, s) and all(inside(th, tw, key, src) for key, src in sources.items()):
            key, source = next(iter(astray.items()))
            _, _, i, j = key
            return [hint("stride.source", index=index_text(key), source=index_text(key[:2] + source),
                         rows=f"{i * s}..{i * s + ph - 1}", cols=f"{j * s}..{j * s + pw - 1}",
                         step=th if th == tw else f"({th}, {tw})")]
    return []


def pool_routing(actual, expected, what, context, tolerance):
    """Max-pool dx whose upstream values land on the wrong element: inside the right window or not."""
    window, dout = context.window, context.dout
    if not spatial(actual, expected, context) or not window.pooling or dout is None or what != "dx":
        return []
    total = float(np.sum(dout))
    if not np.isclose(float(np.sum(actual)), total, rtol=1e-6, atol=1e-9 * float(np.sum(np.abs(dout)))):
        return []  # values added or lost: not a matter of where they land
    atol = tolerance * max(float(np.max(np.abs(dout))), 1e-12)
    s, ph, pw = window.stride, window.height, window.width

    def within(r, q, top, left, height, width):
        return top <= r < top + height and left <= q < left + width

    inside_own, inside_unit, elsewhere = [], [], 0
    windows = int(np.prod(dout.shape))
    for n, c, i, j in np.ndindex(*dout.shape):
        hits = np.argwhere(np.abs(actual[n, c] - dout[n, c, i, j]) <= atol)
        if len(hits) != 1 or abs(dout[n, c, i, j]) <= atol:
            continue
        r, q = (int(v) for v in hits[0])
        if abs(expected[n, c, r, q]) > atol:
            continue  # lands where some window's maximum is
        example = ((n, c, i, j), (n, c, r, q))
        # Its own window, or that window with height and width exchanged (a swapped unravel).
        own = within(r, q, i * s, j * s, ph, pw) or within(r, q, i * s, j * s, pw, ph)
        unit = s != 1 and within(r, q, i, j, ph, pw)  # where stride 1 would put the window
        if own and not unit:
            inside_own.append(example)
        elif unit and not own:
            inside_unit.append(example)
        elif not own:
            elsewhere += 1
    if elsewhere or (inside_own and inside_unit):
        return []
    if inside_unit:
        (source, landed) = inside_unit[0]
        _, _, i, j = source
        return [hint("stride.routed", source=source, landed=landed, start=(i, j), right=(i * s, j * s))]
    if inside_own:
        source, landed = inside_own[0]
        return [hint("axes.within_window", misplaced=len(inside_own), windows=windows, source=source,
                     landed=landed)]
    return []


def stride_ignored_in_backward(actual, expected, what, context, tolerance):
    """A gradient equal to what the submission's own backward gives at stride 1 (stride ignored)."""
    window, dout = context.window, context.dout
    if window is None or window.stride == 1 or what not in context.gradient_of \
            or context.forward is None or context.backward is None or dout is None:
        return []
    result = context.call_forward({"stride": 1})
    out_unit, cache_unit = result
    unit_shape = np.shape(out_unit)
    if len(unit_shape) != 4 or unit_shape[2] < dout.shape[2] or unit_shape[3] < dout.shape[3]:
        return []
    dout_unit = np.zeros(unit_shape)
    dout_unit[:, :, :dout.shape[2], :dout.shape[3]] = dout
    grads = context.backward(dout_unit, cache_unit)
    names = list(context.gradient_of)
    grad = grads if len(names) == 1 else grads[names.index(what)]
    if close(actual, grad, tolerance) and not close(actual, expected, tolerance):
        return [hint("stride.backward", what=what)]
    return []
