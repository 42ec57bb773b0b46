"""Detectors for the normalizations: statistics over the wrong axes, their gradient's terms, mixing."""

import numpy as np

from convgrader.judging.diagnostics.context import close
from convgrader.judging.diagnostics.values import named_factor
from convgrader.messages import hint, say


#: For each normalization, how its statistics are grouped: description -> (reshape, axes).
def _groupings(area, shape, groups):
    n, c, h, w = shape
    if area == "spatial_batchnorm":
        wanted = (say("over_nhw_per_channel"), (n, c, h, w), (0, 2, 3))
        others = [(say("over_hw_per_sample_channel"), (n, c, h, w), (2, 3)),
                  (say("over_chw_per_sample"), (n, c, h, w), (1, 2, 3)),
                  (say("over_n_only"), (n, c, h, w), (0,)),
                  (say("over_everything"), (n, c, h, w), (0, 1, 2, 3))]
        return wanted, others
    if area == "spatial_groupnorm" and groups and c % groups == 0:
        size = c // groups
        wanted = (say("over_groups_consecutive"), (n, groups, size, h, w), (2, 3, 4))
        others = [(say("over_groups_strided"),
                   (n, size, groups, h, w), (1, 3, 4)),
                  (say("over_groups_swapped"),
                   (n, size, groups, h, w), (2, 3, 4)),
                  (say("over_chw_per_sample"), (n, c, h, w), (1, 2, 3)),
                  (say("over_hw_per_sample_channel"), (n, c, h, w), (2, 3)),
                  (say("over_nhw_per_channel"), (n, c, h, w), (0, 2, 3)),
                  (say("over_groups_batch"), (n, groups, size, h, w), (0, 2, 3, 4))]
        return wanted, others
    return None, []


def normalized_over(actual, expected, what, context, tolerance):
    """A normalization's output whose statistics are taken over the wrong axes."""
    if context.area not in ("spatial_batchnorm", "spatial_groupnorm") or what != "out" \
            or actual.ndim != 4 or actual.shape != expected.shape:
        return []
    gamma = np.asarray(context.inputs["gamma"], dtype=np.float64).reshape(1, -1, 1, 1)
    beta = np.asarray(context.inputs["beta"], dtype=np.float64).reshape(1, -1, 1, 1)
    params = context.inputs.get("bn_param") or {}
    if np.any(np.abs(gamma) < 1e-3) or params.get("mode") == "test":
        return []
    wanted, others = _groupings(context.area, actual.shape, context.inputs.get("G"))

    def normalized(out, grouping):
        _, shape, axes = grouping
        grouped = ((out.astype(np.float64) - beta) / gamma).reshape(shape)
        return (np.max(np.abs(grouped.mean(axis=axes))) < 1e-3
                and np.max(np.abs(grouped.std(axis=axes) - 1)) < 1e-2)

    # The expected output with its groups scaled to std 1 exactly: eps keeps a group of small
    # variance below 1, and an output normalized with a smaller eps must not look like one
    # normalized over other axes.
    _, shape, axes = wanted
    x_hat = ((expected.astype(np.float64) - beta) / gamma).reshape(shape)
    ideal = (x_hat / np.maximum(x_hat.std(axis=axes, keepdims=True), 1e-12)).reshape(expected.shape) * gamma + beta
    # A grouping tells the two apart when the submission's output is normalized
    # over it and the expected one is not (finer groupings normalize coarser ones too).
    for other in others:
        if normalized(actual, other) and not normalized(ideal, other):
            return [hint("axes.normalized_over", what=what, found=other[0], wanted=wanted[0])]
    return []


def eps_used(actual, expected, what, context, tolerance):
    """A normalization's output whose eps is another constant than bn_param's / gn_param's.

    Per group, out - beta = gamma · (x - mean) / sqrt(var + eps): the submission's
    centred output is the expected one times sqrt(var + eps) / sqrt(var + eps').
    The eps' that factor implies must be the same in every group, and the groups'
    variances must differ (a bug of the formula, eps outside the square root or
    the unbiased variance, gives an eps' that varies with the variance).
    """
    if context.area not in ("spatial_batchnorm", "spatial_groupnorm") or what != "out" \
            or actual.ndim != 4 or actual.shape != expected.shape:
        return []
    params = context.inputs.get("bn_param") or context.inputs.get("gn_param") or {}
    if params.get("mode") == "test":
        return []
    eps = params.get("eps", 1e-5)
    beta = np.asarray(context.inputs["beta"], dtype=np.float64).reshape(1, -1, 1, 1)
    (_, shape, axes), _ = _groupings(context.area, actual.shape, context.inputs.get("G"))
    mine = (actual.astype(np.float64) - beta).reshape(shape)
    theirs = (expected.astype(np.float64) - beta).reshape(shape)
    energy = np.sum(theirs * theirs, axis=axes, keepdims=True)
    if np.any(energy == 0):
        return []
    k = np.sum(mine * theirs, axis=axes, keepdims=True) / energy
    if not close(mine, k * theirs, tolerance) or np.all(np.abs(k - 1) <= 10 * tolerance):
        return []
    variance = np.asarray(context.inputs["x"], dtype=np.float64).reshape(shape).var(axis=axes, keepdims=True)
    if variance.size < 2 or variance.max() < 1.5 * variance.min():
        return []  # groups of one variance cannot tell another eps from another formula
    found = ((variance + eps) / k ** 2 - variance).ravel()
    middle = float(np.median(found))
    if abs(middle - eps) < 0.5 * eps or np.max(np.abs(found - middle)) > 0.1 * max(abs(middle), 0.01 * eps):
        return []
    name = "bn_param" if context.area == "spatial_batchnorm" else "gn_param"
    return [hint("scale.eps", what=what, found=max(middle, 0.0), eps=eps, params=name)]


def _normalization_scale(context):
    """x's standard deviation broadcast over x, per channel (batch norm) or per sample and group."""
    x = np.asarray(context.inputs["x"], dtype=np.float64)
    params = context.inputs.get("bn_param") or context.inputs.get("gn_param") or {}
    eps = params.get("eps", 1e-5)
    if context.area == "spatial_batchnorm":
        return np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + eps) * np.ones_like(x)
    n, c, h, w = x.shape
    grouped = x.reshape(n, context.inputs["G"], -1)
    return np.broadcast_to(np.sqrt(grouped.var(axis=2, keepdims=True) + eps), grouped.shape).reshape(x.shape)


def correction_scale(actual, expected, what, context, tolerance):
    """A normalization's dx whose terms through the statistics are k times too large.

    dx = gamma / std · dout minus terms through the mean and variance; the
    first part is known from the inputs, so the rest can be compared alone.
    """
    if context.area not in ("spatial_batchnorm", "spatial_groupnorm") or what != "dx" \
            or context.dout is None or actual.shape != expected.shape:
        return []
    gamma = np.asarray(context.inputs["gamma"], dtype=np.float64).reshape(1, -1, 1, 1)
    direct = gamma * context.dout / _normalization_scale(context)
    mine, theirs = direct - actual.astype(np.float64), direct - expected
    energy = float(np.sum(theirs * theirs))
    if energy == 0.0:
        return []
    k = float(np.sum(mine * theirs)) / energy
    if abs(k - 1) <= 1e-3 or abs(k) <= 1e-3 or not close(mine, k * theirs, tolerance):
        return []
    count = "N·H·W per channel" if context.area == "spatial_batchnorm" else "(C/G)·H·W per sample and group"
    return [hint("scale.correction", what=what, factor=k, named=named_factor(k, context.sizes), count=count)]


def locality(actual, expected, what, context, tolerance):
    """Probe the submission's backward with dout inside one channel (or group): dx must stay there."""
    if context.area not in ("spatial_batchnorm", "spatial_groupnorm") or what != "dx" \
            or context.forward is None or context.backward is None or context.dout is None:
        return []
    dout = np.asarray(context.dout)
    region = np.zeros(dout.shape, dtype=bool)
    if context.area == "spatial_batchnorm":
        region[:, 0] = True
        name, over = say("region_channel"), say("over_channel")
    else:
        size = dout.shape[1] // context.inputs["G"]
        region[0, :size] = True
        name, over = say("region_group", last=size - 1), say("over_group")
    if region.all():
        return []
    cache = context.call_forward()[1]
    dx = np.asarray(context.backward(np.where(region, dout, 0.0), cache)[0], dtype=np.float64)
    outside = np.where(region, 0.0, np.abs(dx))
    if dx.shape == dout.shape and outside.max() > tolerance * max(float(np.abs(dx).max()), 1e-12):
        where = tuple(int(i) for i in np.unravel_index(int(np.argmax(outside)), dx.shape))
        return [hint("axes.mixes", region=name, where=where, over=over)]
    return []


def reduction_layout(actual, expected, what, context, tolerance):
    """A parameter gradient summed from dout reshaped without moving the channel axis last."""
    dout = context.dout
    if what not in ("dbeta", "db") or dout is None or np.ndim(dout) != 4:
        return []
    c = dout.shape[1]
    plain = np.asarray(dout, dtype=np.float64).reshape(-1, c).sum(axis=0)
    if actual.size == c and close(actual.reshape(-1), plain, tolerance) and not close(actual, expected, tolerance):
        return [hint("axes.reduction_layout", what=what, layout=say("layout_plain_reshape"))]
    return []
