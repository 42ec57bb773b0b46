"""Recognizing what a wrong result says about the code that produced it.

A comparison that fails hands its two arrays (and, when the test gives it, a
:class:`Context` describing the call) to :func:`explain`, which runs a set of
detectors and returns the hints of those that recognise their pattern: an
error confined to the border (padding), an output shape that another stride
or padding would give, a constant factor, exchanged axes, windows that move by
the wrong step, and so on. Exceptions raised by the code under test go to
:func:`explain_exception`, which sees only the exception's type name and
message (the submission may run in another process).

Detectors are conservative: each fires only when its pattern explains the
whole difference, never on a random error, and a detector that fails itself
is silent. They look at arrays only; when a detector needs the submission's
behaviour it calls the submission's functions (given in the context), never
reads its code or its caches. No detector computes a graded layer itself.
"""

import copy
import itertools
import re
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from convgrader.assignment import AREAS
from convgrader.messages import hint, say, together

#: Most hints shown for one failure: the first ones, in the order of DETECTORS.
MOST_HINTS = 2


# ---------------------------------------------------------------------------
# What a test can tell the detectors about the call it checks
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    """How a convolution or pooling layer slides its window over (H, W).

    Attributes
    ----------
    height, width : int
        The window (filter or pool) size, HH × WW.
    stride, pad : int
        As in ``conv_param`` / ``pool_param`` (pooling has pad 0).
    pooling : bool
        True for max pooling, whose formula has no padding.
    """

    height: int
    width: int
    stride: int
    pad: int = 0
    pooling: bool = False

    def output_size(self, h, w, *, stride=None, pad=None, height=None, width=None, plus=1):
        """(H', W') = plus + (H + 2·pad − HH) // stride, with any term replaced."""
        stride = stride or self.stride
        pad = self.pad if pad is None else pad
        height, width = height or self.height, width or self.width
        return (plus + (h + 2 * pad - height) // stride, plus + (w + 2 * pad - width) // stride)

    @property
    def formula(self):
        if self.pooling:
            return "H' = 1 + (H - pool_height) / stride, W' = 1 + (W - pool_width) / stride"
        return "H' = 1 + (H + 2·pad - HH) / stride, W' = 1 + (W + 2·pad - WW) / stride"


@dataclass
class Context:
    """What the detectors may know about the call whose result is compared.

    Attributes
    ----------
    kind : str
        The fixture area (``"conv"``, ``"pool"``, ...), or ``""``.
    inputs : dict
        The forward's arguments by name, as the test passed them.
    arguments : tuple of str
        Their order in the forward's signature.
    gradient_of : dict
        Gradient name -> input name (``"dx" -> "x"``).
    window : Window or None
        For convolution and pooling.
    out, dout : ndarray or None
        The expected forward output; the upstream gradient of a backward test.
    forward, backward : callable or None
        The submission's own functions, only ever called.
    sizes : dict
        Named sizes (``N``, ``C``, ``H·W``, ...) a constant factor may be, or be one over.
    factors : dict
        Other named values a constant factor may be exactly.
    """

    kind: str = ""
    inputs: dict = field(default_factory=dict)
    arguments: tuple = ()
    gradient_of: dict = field(default_factory=dict)
    window: Optional[Window] = None
    out: Optional[np.ndarray] = None
    dout: Optional[np.ndarray] = None
    forward: Optional[Callable] = None
    backward: Optional[Callable] = None
    sizes: dict = field(default_factory=dict)
    factors: dict = field(default_factory=dict)

    @classmethod
    def of(cls, case, forward=None, backward=None, **given):
        """The context of a fixture case; ``given`` overrides inputs (e.g. a prepared ``bn_param``)."""
        area = AREAS.get(case.area)
        arguments, gradient_of = (area.arguments, area.gradients) if area else ((), {})
        inputs = {}
        for name in arguments:
            if name in given:
                inputs[name] = given[name]
            else:
                inputs[name] = case[name] if name in case else case.param(name)
        window = None
        if case.area == "conv":
            conv_param, w = inputs["conv_param"], inputs["w"]
            window = Window(w.shape[2], w.shape[3], conv_param["stride"], conv_param["pad"])
        elif case.area == "pool":
            pool = inputs["pool_param"]
            window = Window(pool["pool_height"], pool["pool_width"], pool["stride"], pooling=True)
        sizes = {}
        if "x" in inputs and np.ndim(inputs["x"]) == 4:
            n, c, h, w = np.shape(inputs["x"])
            sizes = {"N": n, "H·W": h * w, "N·H·W": n * h * w, "C": c}
            if case.area == "spatial_groupnorm" and inputs["G"]:
                sizes["(C/G)·H·W"] = c // inputs["G"] * h * w
        factors = {}
        if case.area == "spatial_batchnorm":
            momentum = inputs["bn_param"].get("momentum", 0.9)
            exchanged = "momentum and 1 - momentum exchanged in the running average"
            factors = {f"(1 - momentum)/momentum: {exchanged}": (1 - momentum) / momentum,
                       f"momentum/(1 - momentum): {exchanged}": momentum / (1 - momentum)}
        return cls(kind=case.area, inputs=inputs, arguments=arguments, gradient_of=gradient_of,
                   window=window, out=case["out"] if "out" in case else None,
                   dout=case["dout"] if "dout" in case else None,
                   forward=forward, backward=backward, sizes=sizes, factors=factors)

    def call_forward(self, param_overrides=None, **input_overrides):
        """Run the submission's forward on fresh copies of the inputs, some replaced.

        ``param_overrides`` changes keys of the ``*_param`` dict (e.g. ``{"stride": 1}``).
        """
        inputs = {name: copy.deepcopy(value) for name, value in self.inputs.items()}
        inputs.update(input_overrides)
        for name in self.arguments:
            if name.endswith("_param") and param_overrides:
                inputs[name] = {**inputs[name], **param_overrides}
        return self.forward(*(inputs[name] for name in self.arguments))


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def _close(actual, expected, tolerance):
    """Whether ``actual`` matches ``expected`` within ``tolerance`` of its scale (as assert_close judges)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape or not np.all(np.isfinite(actual)):
        return False
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-12)
    return float(np.max(np.abs(actual - expected), initial=0.0)) <= tolerance * scale


# ---------------------------------------------------------------------------
# What each compared array is: its role and the names of its axes
# ---------------------------------------------------------------------------
# Kept apart on purpose: this belongs with the description of each graded part
# in convgrader/assignment.py, where the lead will move it. Keys are fixture
# areas (Context.kind), then the name a test gives the array (``what``), reduced
# by :func:`array_name` (``bn_param['running_mean']`` -> ``running_mean``,
# ``grads['W1']`` -> ``dW1``). Roles: "output", "gradient", "running average",
# "parameter". A gradient's axes are those of the array it belongs to.

_NCHW = ("n", "c", "h", "w")
ARRAY_ROLES = {
    "conv": {"out": ("output", ("n", "f", "h", "w")), "dx": ("gradient", _NCHW),
             "dw": ("gradient", ("f", "c", "hh", "ww")), "db": ("gradient", ("f",))},
    "pool": {"out": ("output", _NCHW), "dx": ("gradient", _NCHW)},
    "spatial_batchnorm": {"out": ("output", _NCHW), "dx": ("gradient", _NCHW),
                          "dgamma": ("gradient", ("c",)), "dbeta": ("gradient", ("c",)),
                          "running_mean": ("running average", ("c",)),
                          "running_var": ("running average", ("c",))},
    "spatial_groupnorm": {"out": ("output", _NCHW), "dx": ("gradient", _NCHW),
                          "dgamma": ("gradient", ("1", "c", "1", "1")),
                          "dbeta": ("gradient", ("1", "c", "1", "1"))},
    "model": {"W1": ("parameter", ("f", "c", "hh", "ww")), "b1": ("parameter", ("f",)),
              "W2": ("parameter", ("f·h/2·w/2", "hidden")), "b2": ("parameter", ("hidden",)),
              "W3": ("parameter", ("hidden", "classes")), "b3": ("parameter", ("classes",)),
              "dW1": ("gradient", ("f", "c", "hh", "ww")), "db1": ("gradient", ("f",)),
              "dW2": ("gradient", ("f·h/2·w/2", "hidden")), "db2": ("gradient", ("hidden",)),
              "dW3": ("gradient", ("hidden", "classes")), "db3": ("gradient", ("classes",)),
              "scores": ("output", ("n", "classes"))},
}

_SUBSCRIPTED = re.compile(r"^(\w+)\[['\"](\w+)['\"]\]")


def array_name(what):
    """The key of ``what`` in :data:`ARRAY_ROLES`: ``"grads['W1']"`` -> ``"dW1"``, ``"dx"`` -> ``"dx"``."""
    found = _SUBSCRIPTED.match(str(what))
    if not found:
        return str(what).split(" ")[0]
    holder, key = found.groups()
    return "d" + key if holder == "grads" else key


def role_of(what, kind=""):
    """``(role, axes)`` of the array a test calls ``what`` in fixture area ``kind``, or None.

    Without a known area, a name is looked up in every area and used only when
    they all agree (``dx`` is always input-shaped; ``out`` of a convolution is not).
    """
    name = array_name(what)
    if kind in ARRAY_ROLES:
        return ARRAY_ROLES[kind].get(name)
    found = {roles[name] for roles in ARRAY_ROLES.values() if name in roles}
    return found.pop() if len(found) == 1 else None


def axis_names(what, kind, ndim):
    """Names of the axes of ``what`` (``("n", "f", "h", "w")``), or None when not known for ``ndim`` axes."""
    role = role_of(what, kind)
    return role[1] if role and len(role[1]) == ndim else None


def index_label(index, what, kind=""):
    """An index as the student thinks of it: ``(n, f, h, w) = (0, 1, 2, 3)`` for a conv output."""
    values = "(" + ", ".join(str(i) for i in index) + ")"
    names = axis_names(what, kind, len(index))
    return f"({', '.join(names)}) = {values}" if names else say("index_at", index=values)


def _axis_name(array_axes, axis):
    """How to name ``axis`` in a message: its letter when known (``H``), else its number."""
    return array_axes[axis].upper() if array_axes else str(axis)


def _index_text(index):
    return "[" + ", ".join(str(i) for i in index) + "]"


# ---------------------------------------------------------------------------
# Detectors for an array of the wrong shape
# ---------------------------------------------------------------------------

def _shape_of_other_geometry(actual, expected, what, context, tolerance):
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


def _permuted(actual, expected, what, context, tolerance):
    """The expected array with some axes exchanged (a wrong transpose or reshape order)."""
    if actual.ndim != expected.ndim or actual.ndim < 2 or sorted(actual.shape) != sorted(expected.shape):
        return []
    for perm in itertools.permutations(range(expected.ndim)):
        if perm == tuple(range(expected.ndim)):
            continue
        candidate = expected.transpose(perm)
        if candidate.shape == actual.shape and _close(actual, candidate, tolerance) \
                and not _close(actual, expected, tolerance):
            moved = tuple(axis for axis, source in enumerate(perm) if axis != source)
            axes = axis_names(what, context.kind, expected.ndim)
            names = [_axis_name(axes, a) for a in moved]
            return [hint("axes.transposed", what=what, axes=" and ".join(names))]
    return []


def _is_gradient(what, context):
    """Whether ``what`` is a gradient (a name with no known role counts as one, as before roles)."""
    role = role_of(what, context.kind)
    return role is None or role[0] == "gradient"


def _shape_rule(what, context):
    """Why the array has the contract's shape, worded for what it is (say()'s text), or ""."""
    role = role_of(what, context.kind)
    if role is None:
        return ""
    if role[0] == "gradient":
        name = array_name(what)
        of = context.gradient_of.get(what) or (f"params['{name[1:]}']" if what.startswith("grads[") else name[1:])
        return say("output_shape.rule_gradient", of=of)
    key = {"running average": "output_shape.rule_running_average",
           "parameter": "output_shape.rule_parameter"}.get(role[0], "output_shape.rule_output")
    return say(key, axes="(" + ", ".join(role[1]) + ")")


def _reduction_shape(actual, expected, what, context, tolerance):
    """Reduced over too few axes (an extra axis kept) or too many (one lost).

    A gradient should have been summed over the extra axes, anything else
    (a running average) averaged. Extra axes of size 1 are a matter of shape,
    not of reduction: :func:`_reshaped` names them.
    """
    gradient = _is_gradient(what, context)
    reduce = np.sum if gradient else np.mean

    def named(extra):
        if gradient:
            return [hint("axes.not_reduced", what=what, axes=_axes_named(extra, actual))]
        return [hint("axes.not_averaged", what=what, axes=_axes_named(extra, actual))]

    if actual.ndim == expected.ndim:  # keepdims: sizes > 1 where the expected has 1
        extra = tuple(a for a in range(actual.ndim) if expected.shape[a] == 1 and actual.shape[a] > 1)
        same = all(actual.shape[a] == expected.shape[a] for a in range(actual.ndim) if a not in extra)
        if extra and same and _close(reduce(actual, axis=extra, keepdims=True), expected, tolerance):
            return named(extra)
    if actual.ndim > expected.ndim:
        for kept in itertools.combinations(range(actual.ndim), expected.ndim):
            if tuple(actual.shape[a] for a in kept) != expected.shape:
                continue
            extra = tuple(a for a in range(actual.ndim) if a not in kept)
            if all(actual.shape[a] == 1 for a in extra):
                continue
            if _close(reduce(actual, axis=extra), expected, tolerance):
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
    names = [_axis_name(_NCHW if array.ndim == 4 else None, a) for a in axes]
    sized = [say("axis_sized", name=name, size=array.shape[a]) for name, a in zip(names, axes)]
    if len(sized) == 1:
        return say("axis_one", axis=sized[0])
    return say("axes_many", axes=", ".join(map(str, sized[:-1])), last=sized[-1])


def _reshaped(actual, expected, what, context, tolerance):
    if actual.size == expected.size and actual.shape != expected.shape \
            and _close(actual.reshape(expected.shape), expected, tolerance):
        rule = _shape_rule(what, context)
        if rule:
            return [hint("output_shape.reshaped_role", what=what, actual=actual.shape, expected=expected.shape,
                         rule=rule)]
        return [hint("output_shape.reshaped", what=what, actual=actual.shape, expected=expected.shape)]
    return []


def _empty_crop(actual, expected, what, context, tolerance):
    """A result empty along H or W when pad = 0: the crop ``a[pad:-pad]`` is ``a[0:0]``."""
    window = context.window
    if window is None or window.pad or actual.ndim != 4 or actual.shape[:2] != expected.shape[:2]:
        return []
    if 0 in actual.shape[2:] and 0 not in expected.shape[2:]:
        return [hint("padding.empty_crop", what=what, shape=actual.shape)]
    return []


def _padded_every_axis(actual, expected, what, context, tolerance):
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


# ---------------------------------------------------------------------------
# Detectors for an array of the right shape with wrong values
# ---------------------------------------------------------------------------

def _nonfinite(actual, expected, what, context, tolerance):
    if np.issubdtype(actual.dtype, np.floating) and not np.all(np.isfinite(actual)):
        return [hint("nan.found")]
    return []


def _integer_dtype(actual, expected, what, context, tolerance):
    if np.issubdtype(actual.dtype, np.integer) and np.issubdtype(expected.dtype, np.floating):
        return [hint("dtype.integer", what=what, dtype=actual.dtype)]
    return []


def _named_factor(k, sizes, factors=None):
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
    return hint("scale.factor", what=what, factor=factor, named=_named_factor(factor, sizes or {}, factors),
                centered=centered)


def _constant_factor(actual, expected, what, context, tolerance):
    """actual = k · expected for one k ≠ 1 (a missing 1/N, a sum for a mean, ...).

    A normalization's output is compared after removing beta, so that a wrong
    scale of the normalized values shows as a factor.
    """
    a, e = actual.astype(np.float64), expected.astype(np.float64)
    centered = ""
    if context.kind in ("spatial_batchnorm", "spatial_groupnorm") and what == "out" and a.ndim == 4:
        beta = np.asarray(context.inputs["beta"], dtype=np.float64).reshape(1, -1, 1, 1)
        a, e, centered = a - beta, e - beta, "(out - beta) "
    a, e = a.ravel(), e.ravel()
    energy = float(e @ e)
    if a.shape != e.shape or energy == 0.0 or not np.all(np.isfinite(a)):
        return []
    k = float(a @ e) / energy
    if abs(k - 1) <= 1e-3 or abs(k) < 1e-12 or not _close(a, k * e, tolerance):
        return []
    named = _named_factor(k, context.sizes, context.factors)
    if a.size == 1 and not named and not any(abs(k / f - 1) < 1e-4 for f in PLAIN_FACTORS):
        return []  # any two numbers differ by some factor: say so only when it means something
    return [scale_hint(what, k, context.sizes, centered, context.factors)]


def _untouched(actual, expected, what, context, tolerance):
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
                and not _close(value, expected, tolerance):
            return [hint("unfinished.unchanged", what=what, given=name)]
    return []


#: Per area: the input added to each channel of the output, how a channel is called, the formula.
OFFSETS = {"conv": ("b", say("word_filter"), "out[n, f, i, j] = sum(window · w[f]) + b[f]"),
           "spatial_batchnorm": ("beta", say("word_channel"), "out = gamma · x_hat + beta"),
           "spatial_groupnorm": ("beta", say("word_channel"), "out = gamma · x_hat + beta")}


def _offset(actual, expected, what, context, tolerance):
    """An output off by its bias (or shift) in every channel: never added, or added twice.

    For a convolution, any other constant per filter also points at the bias
    (b[0] for every filter, a sum of b); a normalization that is off by a
    constant per channel may have a wrong mean instead, so it is named only
    when the constant is beta itself.
    """
    if what != "out" or context.kind not in OFFSETS or actual.ndim != 4 or actual.shape != expected.shape:
        return []
    name, channel, formula = OFFSETS[context.kind]
    offset = np.asarray(context.inputs.get(name), dtype=np.float64)
    if offset.size != actual.shape[1] or not np.any(offset):
        return []
    offset = offset.reshape(1, -1, 1, 1)
    a, e = actual.astype(np.float64), expected.astype(np.float64)
    if _close(a, e - offset, tolerance):
        return [hint("bias.missing", what=what, name=name, channel=channel, formula=formula)]
    if _close(a, e + offset, tolerance):
        return [hint("bias.twice", what=what, name=name, channel=channel, formula=formula)]
    per_channel = (a - e).mean(axis=(0, 2, 3), keepdims=True)
    if context.kind == "conv" and np.any(np.abs(per_channel) > tolerance * max(float(np.max(np.abs(e))), 1e-12)) \
            and _close(a, e + per_channel, tolerance):
        return [hint("bias.constant", what=what, name=name, channel=channel, formula=formula,
                     example=float(per_channel[0, 0, 0, 0] + offset[0, 0, 0, 0]))]
    return []


def _overwritten_windows(actual, expected, what, context, tolerance):
    """Max-pool dx assigned (``=``) where windows overlap: one window's gradient survives, not their sum."""
    window, dout = context.window, context.dout
    if not _spatial(actual, expected, context) or not window.pooling or dout is None or what != "dx":
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


def _spatial(actual, expected, context):
    return actual.ndim == 4 and actual.shape == expected.shape and context.window is not None


def _border_only(actual, expected, what, context, tolerance):
    """Wrong only in a band along the edges, right inside: a padding mistake."""
    window = context.window
    if not _spatial(actual, expected, context) or window.pooling or window.pad == 0:
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


def _shifted(actual, expected, what, context, tolerance):
    """The expected array moved by a few rows or columns (padding on one side, a crop from a corner)."""
    window = context.window
    if not _spatial(actual, expected, context) or window.pooling or window.pad == 0:
        return []
    h, w = expected.shape[2:]
    reach = 2 * window.pad
    for dh, dw in itertools.product(range(-reach, reach + 1), repeat=2):
        if (dh, dw) == (0, 0) or h - abs(dh) < 2 or w - abs(dw) < 2:
            continue
        # actual[h] should equal expected[h - dh] wherever both exist.
        mine = actual[:, :, max(dh, 0):h + min(dh, 0), max(dw, 0):w + min(dw, 0)]
        theirs = expected[:, :, max(-dh, 0):h - max(dh, 0), max(-dw, 0):w - max(dw, 0)]
        if mine.size * 2 >= actual.size and _close(mine, theirs, tolerance) \
                and not _close(mine, expected[:, :, max(dh, 0):h + min(dh, 0), max(dw, 0):w + min(dw, 0)],
                               tolerance):
            return [hint("padding.shift", what=what, shift=(dh, dw))]
    return []


def _window_step(actual, expected, what, context, tolerance):
    """A forward output whose windows move by some step t instead of the stride s."""
    window = context.window
    if not _spatial(actual, expected, context) or what in context.gradient_of:
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
        if _close(mine, theirs, tolerance) and not _close(mine, same_place, tolerance):
            i, j = pairs[0]
            step = th if th == tw else f"({th}, {tw})"
            return [hint("stride.step", step=step, stride=s, what=what,
                         yours=f"[:, :, {i}, {j}]", theirs=f"[:, :, {i * th // s}, {j * tw // s}]")]
    return []


def _pool_sources(actual, expected, what, context, tolerance):
    """Max-pool outputs taken from elements of x outside their windows, inside windows of another step."""
    window, x = context.window, context.inputs.get("x")
    if not _spatial(actual, expected, context) or not window.pooling or what != "out" or x is None:
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
            return [hint("stride.source", index=_index_text(key), source=_index_text(key[:2] + source),
                         rows=f"{i * s}..{i * s + ph - 1}", cols=f"{j * s}..{j * s + pw - 1}",
                         step=th if th == tw else f"({th}, {tw})")]
    return []


def _pool_routing(actual, expected, what, context, tolerance):
    """Max-pool dx whose upstream values land on the wrong element: inside the right window or not."""
    window, dout = context.window, context.dout
    if not _spatial(actual, expected, context) or not window.pooling or dout is None or what != "dx":
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


#: For each normalization, how its statistics are grouped: description -> (reshape, axes).
def _groupings(kind, shape, groups):
    n, c, h, w = shape
    if kind == "spatial_batchnorm":
        wanted = ("(N, H, W) for each channel", (n, c, h, w), (0, 2, 3))
        others = [("(H, W) for each sample and channel", (n, c, h, w), (2, 3)),
                  ("(C, H, W) for each sample", (n, c, h, w), (1, 2, 3)),
                  ("N only, for each channel and position", (n, c, h, w), (0,)),
                  ("all of (N, C, H, W) at once", (n, c, h, w), (0, 1, 2, 3))]
        return wanted, others
    if kind == "spatial_groupnorm" and groups and c % groups == 0:
        size = c // groups
        wanted = ("each sample's groups of consecutive channels", (n, groups, size, h, w), (2, 3, 4))
        others = [("groups of every G-th channel (channel c in group c % G), not consecutive channels",
                   (n, size, groups, h, w), (1, 3, 4)),
                  ("C // G groups of G channels, not G groups of C // G channels",
                   (n, size, groups, h, w), (2, 3, 4)),
                  ("(C, H, W) for each sample", (n, c, h, w), (1, 2, 3)),
                  ("(H, W) for each sample and channel", (n, c, h, w), (2, 3)),
                  ("(N, H, W) for each channel", (n, c, h, w), (0, 2, 3)),
                  ("each group over the whole batch", (n, groups, size, h, w), (0, 2, 3, 4))]
        return wanted, others
    return None, []


def _normalized_over(actual, expected, what, context, tolerance):
    """A normalization's output whose statistics are taken over the wrong axes."""
    if context.kind not in ("spatial_batchnorm", "spatial_groupnorm") or what != "out" \
            or actual.ndim != 4 or actual.shape != expected.shape:
        return []
    gamma = np.asarray(context.inputs["gamma"], dtype=np.float64).reshape(1, -1, 1, 1)
    beta = np.asarray(context.inputs["beta"], dtype=np.float64).reshape(1, -1, 1, 1)
    params = context.inputs.get("bn_param") or {}
    if np.any(np.abs(gamma) < 1e-3) or params.get("mode") == "test":
        return []
    wanted, others = _groupings(context.kind, actual.shape, context.inputs.get("G"))

    def normalized(out, grouping):
        _, shape, axes = grouping
        grouped = ((out.astype(np.float64) - beta) / gamma).reshape(shape)
        return (np.max(np.abs(grouped.mean(axis=axes))) < 1e-3
                and np.max(np.abs(grouped.std(axis=axes) - 1)) < 1e-2)

    # A grouping tells the two apart when the submission's output is normalized
    # over it and the expected one is not (finer groupings normalize coarser ones too).
    for other in others:
        if normalized(actual, other) and not normalized(expected, other):
            return [hint("axes.normalized_over", what=what, found=other[0], wanted=wanted[0])]
    return []


def _normalization_scale(context):
    """x's standard deviation broadcast over x, per channel (batch norm) or per sample and group."""
    x = np.asarray(context.inputs["x"], dtype=np.float64)
    params = context.inputs.get("bn_param") or context.inputs.get("gn_param") or {}
    eps = params.get("eps", 1e-5)
    if context.kind == "spatial_batchnorm":
        return np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + eps) * np.ones_like(x)
    n, c, h, w = x.shape
    grouped = x.reshape(n, context.inputs["G"], -1)
    return np.broadcast_to(np.sqrt(grouped.var(axis=2, keepdims=True) + eps), grouped.shape).reshape(x.shape)


def _correction_scale(actual, expected, what, context, tolerance):
    """A normalization's dx whose terms through the statistics are k times too large.

    dx = gamma / std · dout minus terms through the mean and variance; the
    first part is known from the inputs, so the rest can be compared alone.
    """
    if context.kind not in ("spatial_batchnorm", "spatial_groupnorm") or what != "dx" \
            or context.dout is None or actual.shape != expected.shape:
        return []
    gamma = np.asarray(context.inputs["gamma"], dtype=np.float64).reshape(1, -1, 1, 1)
    direct = gamma * context.dout / _normalization_scale(context)
    mine, theirs = direct - actual.astype(np.float64), direct - expected
    energy = float(np.sum(theirs * theirs))
    if energy == 0.0:
        return []
    k = float(np.sum(mine * theirs)) / energy
    if abs(k - 1) <= 1e-3 or abs(k) <= 1e-3 or not _close(mine, k * theirs, tolerance):
        return []
    count = "N·H·W per channel" if context.kind == "spatial_batchnorm" else "(C/G)·H·W per sample and group"
    return [hint("scale.correction", what=what, factor=k, named=_named_factor(k, context.sizes), count=count)]


def _locality(actual, expected, what, context, tolerance):
    """Probe the submission's backward with dout inside one channel (or group): dx must stay there."""
    if context.kind not in ("spatial_batchnorm", "spatial_groupnorm") or what != "dx" \
            or context.forward is None or context.backward is None or context.dout is None:
        return []
    dout = np.asarray(context.dout)
    region = np.zeros(dout.shape, dtype=bool)
    if context.kind == "spatial_batchnorm":
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


def _reduction_layout(actual, expected, what, context, tolerance):
    """A parameter gradient summed from dout reshaped without moving the channel axis last."""
    dout = context.dout
    if what not in ("dbeta", "db") or dout is None or np.ndim(dout) != 4:
        return []
    c = dout.shape[1]
    plain = np.asarray(dout, dtype=np.float64).reshape(-1, c).sum(axis=0)
    if actual.size == c and _close(actual.reshape(-1), plain, tolerance) and not _close(actual, expected, tolerance):
        return [hint("axes.reduction_layout", what=what, layout=say("layout_plain_reshape"))]
    return []


def _stride_ignored_in_backward(actual, expected, what, context, tolerance):
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
    if _close(actual, grad, tolerance) and not _close(actual, expected, tolerance):
        return [hint("stride.backward", what=what)]
    return []


def _forward_first(actual, expected, what, context, tolerance):
    """A backward test whose forward is wrong: is the gradient at least right for that forward?"""
    if context.forward is None or context.out is None or what not in context.gradient_of:
        return []
    forward_name = getattr(context.forward, "__name__", "the forward function")
    out = np.asarray(context.call_forward()[0])
    if _close(out, context.out, tolerance):
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


#: Detectors in the order their hints are shown; each takes (actual, expected, what, context, tolerance).
SHAPE_DETECTORS = (_empty_crop, _padded_every_axis, _permuted, _reduction_shape, _reshaped,
                   _shape_of_other_geometry)
VALUE_DETECTORS = (_integer_dtype, _nonfinite, _permuted, _offset, _constant_factor, _shifted, _border_only,
                   _window_step, _pool_sources, _pool_routing, _overwritten_windows, _normalized_over,
                   _correction_scale, _reduction_layout, _locality, _stride_ignored_in_backward, _forward_first)
#: Run before the others; when one of these explains the failure, its hint is shown alone.
FIRST_DETECTORS = (_untouched,)


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
    list of Said
        At most :data:`MOST_HINTS` hints (:func:`convgrader.messages.hint`), at most one per tag.
    """
    context = context or Context()
    actual, expected = np.asarray(actual), np.asarray(expected)
    detectors = SHAPE_DETECTORS if actual.shape != expected.shape else VALUE_DETECTORS
    for detector in FIRST_DETECTORS:
        try:
            alone = detector(actual, expected, what, context, tolerance)
        except Exception:  # a detector must never hide the failure it explains
            alone = []
        if alone:
            return alone[:MOST_HINTS]
    found, tags = [], set()
    for detector in detectors:
        try:
            lines = detector(actual, expected, what, context, tolerance)
        except Exception:  # a detector must never hide the failure it explains
            continue
        for line in lines:
            if line.tag not in tags:  # each line is a hint, a Said that knows its tag
                tags.add(line.tag)
                found.append(line)
    return found[:MOST_HINTS]


# ---------------------------------------------------------------------------
# Return values
# ---------------------------------------------------------------------------

def explain_order(shapes, wanted, what):
    """A hint when returned values have the expected shapes in another order, else None.

    Parameters
    ----------
    shapes, wanted : list of tuple
        The shapes returned and the shapes expected, position by position.
    """
    if sorted(shapes) == sorted(wanted) and shapes != wanted:
        return hint("return.order", got=", ".join(map(str, shapes)), what=what,
                    wanted=", ".join(map(str, wanted)))
    return None


# ---------------------------------------------------------------------------
# Exceptions raised by the code under test
# ---------------------------------------------------------------------------

#: NumPy names removed in 1.24 (the type aliases) or 2.0, with what to write instead.
REMOVED_NUMPY_NAMES = {
    "float": "float or np.float64", "int": "int or np.int64", "object": "object",
    "str": "str", "complex": "complex or np.complex128", "unicode": "str",
    "float_": "np.float64", "complex_": "np.complex128", "unicode_": "np.str_", "string_": "np.bytes_",
    "NaN": "np.nan", "NAN": "np.nan", "Inf": "np.inf", "Infinity": "np.inf", "infty": "np.inf",
    "PINF": "np.inf", "NINF": "-np.inf", "PZERO": "0.0", "NZERO": "-0.0",
    "product": "np.prod", "cumproduct": "np.cumprod", "sometrue": "np.any", "alltrue": "np.all",
    "round_": "np.round", "asfarray": "np.asarray(a, dtype=float)", "msort": "np.sort(a, axis=0)",
    "mat": "np.asmatrix (or better, a plain array)", "issubclass_": "issubclass",
    "find_common_type": "np.result_type", "cast": "a.astype(dtype)",
}

_NUMPY_MISSING = re.compile(r"module 'numpy' has no attribute '(\w+)'|`np\.(\w+)` was removed")
_SHAPE = r"\(([\d, ]*)\)"
_INTO_EMPTY = re.compile(rf"could not broadcast input array from shape {_SHAPE} into shape {_SHAPE}")
_BROADCAST = re.compile(r"operands could not be broadcast together with shapes ((?:\([\d,]*\) ?)+)"
                        rf"|non-broadcastable output operand with shape {_SHAPE} doesn't match "
                        rf"the broadcast shape {_SHAPE}")
_NOT_ALIGNED = re.compile(r"not aligned: (\d+) \(dim 1\) != (\d+) \(dim 0\)"
                          r"|size (\d+) is different from (\d+)")
_PAST_END = re.compile(r"index -?\d+ is out of bounds for axis (\d+) with size (\d+)")
_EMPTY_REDUCTION = re.compile(r"zero-size array to reduction operation")
_TO_SCALAR = re.compile(r"only (?:0-dimensional|length-1|size-1) arrays can be converted to Python scalars")
_UNPACK = re.compile(r"cannot unpack non-iterable NoneType object|"
                     r"(?:too many|not enough) values to unpack")


def _shape(text):
    return tuple(int(v) for v in text.replace(" ", "").split(",") if v)


def _short_by_window(shapes):
    """Shapes of one rank that agree except for smaller trailing (spatial) sizes in some."""
    if len(shapes) < 2 or len({len(s) for s in shapes}) != 1 or len(shapes[0]) < 2:
        return False
    largest = tuple(max(sizes) for sizes in zip(*shapes))
    if largest not in shapes:  # a full window, and pieces of it cut short
        return False
    for shape in shapes:
        differs = [axis for axis, (a, b) in enumerate(zip(shape, largest)) if a != b]
        if differs and min(differs) < len(shape) - 2:
            return False
    return any(shape != largest for shape in shapes)


def _padded_leading_axis(shapes):
    """(larger, smaller) when two shapes of rank >= 3 differ only along axis 0, by an even number."""
    distinct = list(dict.fromkeys(shapes))
    if len(distinct) != 2 or len(distinct[0]) != len(distinct[1]) or len(distinct[0]) < 3:
        return None
    larger, smaller = sorted(distinct, reverse=True)
    if larger[1:] == smaller[1:] and (larger[0] - smaller[0]) % 2 == 0 and smaller[0] > 0:
        return larger, smaller
    return None


def _kept_axes(shapes):
    """(small, large) when a lower-rank shape matches the leading axes of a higher-rank one."""
    for small in shapes:
        for large in shapes:
            if 0 < len(small) < len(large) and large[:len(small)] == small \
                    and large[-len(small):] != small:
                return small, large
    return None


def explain_exception(type_name, message):
    """A hint for an exception raised by the code under test, or None.

    Parameters
    ----------
    type_name : str
        The exception's class name, e.g. ``"AttributeError"``.
    message : str
        ``str(exception)``.
    """
    message = str(message)
    if type_name == "AttributeError":
        found = _NUMPY_MISSING.search(message)
        if found:
            name = found.group(1) or found.group(2)
            if name in REMOVED_NUMPY_NAMES:
                return hint("numpy_alias.removed", name=name, replacement=REMOVED_NUMPY_NAMES[name])
    if type_name == "ValueError":
        found = _INTO_EMPTY.search(message)
        if found and 0 in _shape(found.group(2)) and 0 not in _shape(found.group(1)):
            return hint("padding.empty_slice", target=tuple(_shape(found.group(2))))
        found = _BROADCAST.search(message)
        if found:
            texts = re.findall(_SHAPE, found.group(0))
            shapes = [_shape(t) for t in texts]
            kept = _kept_axes(shapes)
            if kept:
                return hint("axes.kept_axes", small=kept[0], large=kept[1])
            padded = _padded_leading_axis(shapes)
            if padded:
                return hint("padding.every_axis_broadcast", large=padded[0], small=padded[1],
                            extra=padded[0][0] - padded[1][0])
            if _short_by_window(shapes):
                shown = " vs ".join(str(tuple(s)) for s in dict.fromkeys(shapes))
                formula = "H' = 1 + (H + 2·pad - HH) / stride"
                return together(hint("padding.short_window", shapes=shown),
                                hint("output_shape.short_window", formula=formula))
    if type_name == "ValueError" and _EMPTY_REDUCTION.search(message):
        return together(hint("stride.empty_window"),
                        hint("output_shape.empty_window", formula="H' = 1 + (H + 2·pad - HH) / stride"))
    if type_name == "ValueError":
        found = _NOT_ALIGNED.search(message)
        if found:
            got, wanted = (found.group(1), found.group(2)) if found.group(1) else (found.group(4), found.group(3))
            if int(wanted) == 4 * int(got):
                return hint("output_shape.not_aligned", got=got, wanted=wanted)
            return hint("padding.not_aligned", got=got, wanted=wanted)
    if type_name == "IndexError":
        found = _PAST_END.search(message)
        if found and int(found.group(1)) >= 2:
            return together(hint("axes.index_past_end", axis=found.group(1), size=found.group(2)),
                            hint("output_shape.index_past_end", formula="H' = 1 + (H + 2·pad - HH) / stride"))
    if type_name == "TypeError" and _TO_SCALAR.search(message):
        return hint("scalar.int_of_array")
    if type_name == "TypeError" or type_name == "ValueError":
        if _UNPACK.search(message):
            return hint("return.unpack")
    return None


_EXCEPTION_LINE = re.compile(r"^\s*(\w*(?:Error|Exception|Warning))\s*:\s*(.*)$")


def explain_exception_text(text):
    """A hint for the first ``TypeName: message`` line of a formatted traceback, or None."""
    for line in str(text).splitlines():
        found = _EXCEPTION_LINE.match(line)
        if found:
            explained = explain_exception(found.group(1), found.group(2))
            if explained:
                return explained
    return None
