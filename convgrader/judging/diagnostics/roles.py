"""What each compared array is (output, gradient, ...) and the names of its axes.

Keys are fixture areas (``Context.area``), then the name a test gives the array
(``what``), reduced by :func:`array_name` (``bn_param['running_mean']`` ->
``running_mean``, ``grads['W1']`` -> ``dW1``). Roles: "output", "gradient",
"running average", "parameter". A gradient's axes are those of the array it
belongs to. This belongs with the description of each graded part in
convgrader/assignment.py, where it may move.
"""

import re

from convgrader.messages import say


NCHW = ("n", "c", "h", "w")


ARRAY_ROLES = {
    "conv": {"out": ("output", ("n", "f", "h", "w")), "dx": ("gradient", NCHW),
             "dw": ("gradient", ("f", "c", "hh", "ww")), "db": ("gradient", ("f",))},
    "pool": {"out": ("output", NCHW), "dx": ("gradient", NCHW)},
    "spatial_batchnorm": {"out": ("output", NCHW), "dx": ("gradient", NCHW),
                          "dgamma": ("gradient", ("c",)), "dbeta": ("gradient", ("c",)),
                          "running_mean": ("running average", ("c",)),
                          "running_var": ("running average", ("c",))},
    "spatial_groupnorm": {"out": ("output", NCHW), "dx": ("gradient", NCHW),
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


def role_of(what, area=""):
    """``(role, axes)`` of the array a test calls ``what`` in fixture area ``area``, or None.

    Without a known area, a name is looked up in every area and used only when
    they all agree (``dx`` is always input-shaped; ``out`` of a convolution is not).
    """
    name = array_name(what)
    if area in ARRAY_ROLES:
        return ARRAY_ROLES[area].get(name)
    found = {roles[name] for roles in ARRAY_ROLES.values() if name in roles}
    return found.pop() if len(found) == 1 else None


def axis_names(what, area, ndim):
    """Names of the axes of ``what`` (``("n", "f", "h", "w")``), or None when not known for ``ndim`` axes."""
    role = role_of(what, area)
    return role[1] if role and len(role[1]) == ndim else None


def index_label(index, what, area=""):
    """An index as the student thinks of it: ``(n, f, h, w) = (0, 1, 2, 3)`` for a conv output."""
    values = "(" + ", ".join(str(i) for i in index) + ")"
    names = axis_names(what, area, len(index))
    return f"({', '.join(names)}) = {values}" if names else say("index_at", index=values)


def axis_letter(array_axes, axis):
    """How to name ``axis`` in a message: its letter when known (``H``), else its number."""
    return array_axes[axis].upper() if array_axes else str(axis)


def index_text(index):
    return "[" + ", ".join(str(i) for i in index) + "]"


def is_gradient(what, context):
    """Whether ``what`` is a gradient (a name with no known role counts as one, as before roles)."""
    role = role_of(what, context.area)
    return role is None or role[0] == "gradient"


def shape_rule(what, context):
    """Why the array has the contract's shape, worded for what it is (say()'s text), or ""."""
    role = role_of(what, context.area)
    if role is None:
        return ""
    if role[0] == "gradient":
        name = array_name(what)
        of = context.gradient_of.get(what) or (f"params['{name[1:]}']" if what.startswith("grads[") else name[1:])
        return say("output_shape.rule_gradient", of=of)
    key = {"running average": "output_shape.rule_running_average",
           "parameter": "output_shape.rule_parameter"}.get(role[0], "output_shape.rule_output")
    return say(key, axes="(" + ", ".join(role[1]) + ")")
