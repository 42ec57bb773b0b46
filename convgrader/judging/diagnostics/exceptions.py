"""Hints for exceptions raised by the code under test, read from the type name and numpy's message.

Only the text is known (the submission may run in another process), so each
rule is a regular expression over one of numpy's or Python's error messages;
a rule that matches names the cause that message has in this assignment.
"""

import re

from convgrader.messages import hint, together


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


_FLOAT_AS_INTEGER = re.compile(r"'float' object cannot be interpreted as an integer"
                               r"|slice indices must be integers")
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
    if type_name == "TypeError" and _FLOAT_AS_INTEGER.search(message):
        return hint("output_shape.true_division", formula="H' = 1 + (H + 2 * pad - HH) // stride")
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
