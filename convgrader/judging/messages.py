"""Every sentence the harness says to a student about a comparison, in one place.

Messages are templates keyed by a short name and filled with ``str.format``
fields. ``say(key, **fields)`` renders one in the current language;
``hint(tag, key, **fields)`` renders a hint, which always starts with
``hint (<tag>):`` so that a student can find the tag in
``docs/reading-failures.md`` and the self-tests can tell hints apart.

To translate, add a table with the same keys (e.g. ``RU``) to :data:`TABLES`
and set :data:`LANGUAGE`; a key missing from a table falls back to English.
"""

#: The tags a hint may carry, each a section of docs/reading-failures.md.
HINT_TAGS = ("padding", "stride", "output_shape", "scale", "axes", "nan", "inplace", "dtype",
             "return", "numpy_alias", "forward")

EN = {
    # ---- comparisons (compare.py) -------------------------------------------------------
    "none": "{what} is None: did the function forget to return it?",
    "not_array": "{what} is not an array: got {kind} ({error})",
    "not_numeric": "{what} is not a numeric array: got {kind} of dtype {dtype}",
    "shape": "{what} has shape {actual}, expected {expected}",
    "not_ndarray": "{what} is a {kind} (of {dtype} values), expected a numpy array of shape {shape}: "
                   "return the array itself (np.array(...) or the array you filled)",
    "complex": "{what} has the complex dtype {dtype}, expected real floating values (float32 or float64)",
    "not_float": "{what} has dtype {dtype}, expected floating values (float32 or float64)",
    "nonfinite": "{what} contains {kinds} ({count} of {total} values), first at {index}; "
                 "expected finite values",
    "values": "{what} differs from the expected values: error {error:.2e} "
              "(max |difference| / max |expected|), tolerance {tolerance:.0e}\n"
              "  {bad} of {total} values are off; the worst at {index}: got {got:.8g}, expected {wanted:.8g}",
    "excerpt": "  around it, yours:    {actual}\n"
                "             expected: {expected}",
    "tie_rule": "  (this input has windows with tied maxima: 'expected' is the valid {what} nearest to yours, where "
                "each window's upstream value goes to its maxima only, in non-negative shares that add up to it)",
    "whole": "  yours:    {actual}\n  expected: {expected}",
    "rel_error": "  (the notebook's rel_error would print {rel:.2e})",
    "modified": "{what} was modified in place by the call ({count} of {total} values changed); "
                "the function must leave its inputs unchanged",
    "returned_none": "returned None; expected {what}",
    "returned_wrong": "returned {got}; expected the {count} values {what}",
    "dtype": "{what} has dtype {actual}, expected {expected}",
    "within": "{what}: got {actual}\n  expected {expected} within {tolerance:.0e} (worst at position {worst})",
    "backward_untestable": "cannot test the backward pass yet: {name} (which makes its cache) "
                           "is not implemented",
    "backward_no_cache": "cannot test the backward pass: {name} must return (out, cache); it returned {got}",
    "exception": "{type_name} raised by the code under test: {message}",
    "also_wrong": "also wrong: {names}",
    "smallest_input": "smallest input that fails: {input}",
    "failing_input": "input that fails: {input}",

    # ---- hints (diagnostics.py), keyed "<tag>.<case>" ------------------------------------
    "padding.border": "only the outer {band} row(s) and column(s) of {what} are wrong, the inside is "
                      "right: check the zero padding (pad = {pad} on every side)",
    "padding.shift": "{what} is the expected array shifted by {shift} (rows, columns): pad both sides "
                     "equally, and when cropping keep the middle (x_pad[:, :, pad:pad + H, pad:pad + W] is x)",
    "padding.shape": "{what} has the shape that pad = {other} would give (pad is {pad}): "
                     "pad {pad} zero rows and columns on every side",
    "padding.uncropped": "{what} is 2·pad = {extra} rows and columns too large: crop the padding off "
                         "(dx = dx_pad[:, :, pad:pad + H, pad:pad + W])",
    "padding.empty_slice": "an array being assigned to has an empty axis (shape {target}): a slice "
                           "a[pad:-pad] is empty when pad = 0, since -0 is 0; write a[pad:pad + H] or use np.pad",
    "padding.short_window": "a slice came back shorter than the window ({shapes}): numpy silently "
                            "shortens a slice that runs past the end; cut windows from the padded input "
                            "(H + 2·pad rows), not from x",
    "output_shape.formula": "{what} has {got} output rows × columns where the formula gives {wanted}{variant}: "
                            "{formula}",
    "output_shape.short_window": "or the output has a row or column too many, so the last window runs "
                                 "off the input: {formula}",
    "stride.shape": "{what} has the shape that stride {other} would give (stride is {stride}): "
                    "{formula}",
    "stride.step": "the windows move by {step} instead of by the stride {stride}: your {what}{yours} "
                   "equals the expected {what}{theirs}; window (i, j) starts at row i·stride, column j·stride",
    "stride.source": "your out{index} is x{source}, outside its window (rows {rows}, columns {cols}) but "
                     "inside the one a step of {step} would give: window (i, j) starts at row i·stride, "
                     "column j·stride",
    "stride.empty_window": "a window came back empty, so it started past the end of the input: window "
                           "(i, j) starts at row i·stride, column j·stride",
    "output_shape.empty_window": "or the output has too many rows or columns: {formula}",
    "axes.index_past_end": "an index ran past the end of axis {axis} (size {size}): a row or column inside "
                           "a window was computed wrongly; np.unravel_index(k, (pool_height, pool_width)) gives "
                           "(row, column), and rows go with axis 2 (H), columns with axis 3 (W)",
    "output_shape.index_past_end": "or the loops run over more output positions than there are: {formula}",
    "axes.kept_axes": "an array of shape {small} meets one of shape {large}: a mean, variance or sum kept "
                      "axes it should reduce (for one value per channel of (N, C, H, W), reduce axis=(0, 2, 3))",
    "stride.backward": "{what} equals what your own backward gives for stride 1: in the backward too, "
                       "window (i, j) starts at row i·stride, column j·stride",
    "stride.routed": "dout{source} lands at {landed}, in the window that stride 1 would start at "
                     "{start}: window (i, j) starts at (i·stride, j·stride) = {right}",
    "axes.transposed": "{what} is the expected array with axes {axes} exchanged: check the order of "
                       "axes in your transpose/reshape",
    "axes.not_reduced": "{what} summed over its {axes} would be right: a parameter's gradient is summed "
                        "over every sample and position that share the parameter",
    "axes.over_reduced": "{what} lacks an axis of size {size}: it was summed over an axis it must keep",
    "output_shape.reshaped": "{what} has the right values in shape {actual}: give it the shape {expected} "
                             "(that of the parameter, e.g. keepdims=True or .reshape)",
    "output_shape.times": "{what} has {ratio} times the expected size along axis {axis}{why}",
    "output_shape.not_aligned": "the activations reaching an affine layer have {got} features where its "
                                "weights have {wanted} rows, 4 times as many: the 2×2 max pool halves H and W, "
                                "so W2 has F·(H/2)·(W/2) rows",
    "output_shape.pooled": " — the 2×2 max pool halves H and W, so W2 has F·(H/2)·(W/2) rows",
    "padding.not_aligned": "the activations reaching an affine layer have {got} features where its weights "
                           "have {wanted} rows: with pad = (filter_size - 1) // 2 and stride 1 the convolution "
                           "keeps H and W, and the 2×2 pool halves them",
    "axes.window_swapped": "{what} has the shape that pool_height and pool_width exchanged would give: "
                           "pool_height goes with H (rows), pool_width with W (columns)",
    "axes.within_window": "the gradient of {misplaced} of {windows} windows lands inside its window but "
                          "not on the window's maximum, e.g. dout{source} at {landed}: turn the argmax into "
                          "(row, column) with np.unravel_index(k, (pool_height, pool_width)) and check the "
                          "order of axes",
    "axes.mixes": "a gradient given to {region} only changes dx outside it (e.g. at {where}): the sums in "
                  "the backward must run over {over} only; when moving axes, transpose before reshape",
    "axes.reduction_layout": "{what} equals dout summed with {layout}: move the channel axis last "
                             "(transpose(0, 2, 3, 1)) before reshaping to (-1, C), and back after",
    "axes.normalized_over": "your {what} is normalized over {found} instead of {wanted}: check the axes "
                            "of the mean and variance (keepdims=True keeps them broadcastable)",
    "scale.factor": "{what} is the expected {centered}times {factor:.6g}{named}: a constant factor is off "
                    "(a sum for a mean, a missing 1/N, the 0.5 of 0.5·reg·ΣW², a variance for a std)",
    "scale.correction": "{what} has the terms through the mean and variance {factor:.6g} times too large"
                        "{named}: each mean in the backward divides by the number of values the forward "
                        "averaged over ({count})",
    "nan.found": "NaN or inf spreads through every later operation: look for a start value of np.nan "
                 "or np.empty, a division by zero (0/0 when a variance is 0), or sqrt/log of a negative number",
    "inplace.changed": "work on copies: `x_pad = x`, slices and reshapes are views of the input, and "
                       "`+=`, `-=` or out= write through them (np.pad and x.copy() make new arrays)",
    "dtype.integer": "{what} has integer dtype {dtype}, so fractions were cut off: create float arrays "
                     "(np.zeros(shape) or np.zeros_like(x, dtype=float))",
    "dtype.complex": "a complex number leaked into the result (a `+ 0j`, np.emath/np.lib.scimath, or a power "
                     "of a complex value): keep the arithmetic real; even a zero imaginary part is a wrong type",
    "dtype.changed": "create arrays with the dtype you were given (np.zeros(shape, dtype=self.dtype), "
                     "or .astype(self.dtype)); a float64 value mixed in upcasts the result",
    "return.none": "the function returned None: is the `return` statement missing, or inside a loop?",
    "return.count": "return a tuple of {count} values, {what}: e.g. `return {example}`",
    "return.order": "the returned values have shapes {got}, while {what} should have {wanted}: "
                    "return them in the order {what}",
    "return.unpack": "a function returned a different number of values than its caller unpacks: "
                     "forward functions return (out, cache), backward functions their gradients, "
                     "and a function without `return` returns None",
    "numpy_alias.removed": "np.{name} was removed from NumPy (in 1.24 or 2.0; older course code uses it): "
                           "write {replacement} instead",
    "forward.consistent": "your {what} agrees with finite differences of your own {forward}, but that "
                          "forward pass is wrong on this input: fix {forward} first",
    "forward.also_wrong": "your {forward} is also wrong on this input: fix it first, then the backward",
}

TABLES = {"en": EN}
LANGUAGE = "en"


def say(key, **fields):
    """The message ``key`` in the current language, with ``fields`` filled in."""
    template = TABLES.get(LANGUAGE, EN).get(key, EN[key])
    return template.format(**fields)


def hint(key, **fields):
    """A hint line: ``hint (<tag>): <message>``, where ``key`` is ``"<tag>.<case>"``."""
    tag = key.split(".", 1)[0]
    assert tag in HINT_TAGS, key
    return f"hint ({tag}): " + say(key, **fields)


def marker(tag):
    """The text every hint with ``tag`` starts with (what self-tests look for)."""
    return f"hint ({tag}):"
