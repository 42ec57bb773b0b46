"""Every sentence the harness says to a student, in one place.

Messages are templates keyed by a short name and filled with ``str.format``
fields. ``say(key, **fields)`` renders one in the current language as a
:class:`Said`, a ``str`` that keeps its key and fields so that any writer can say
it again in its reader's language (a failure is data until a writer renders it);
``hint(key, **fields)`` renders a hint, which always starts with
``hint (<tag>):`` (``подсказка (<tag>):`` in Russian) so that a student can
find the tag in ``docs/reading-failures.md`` (``docs/reading-failures.ru.md``) and the self-tests
can tell hints apart. Keys with a dot are hints (``"<tag>.<case>"``); others
are not.

Translations (see :mod:`convgrader.language`): the English template is
the gettext msgid and the key its msgctxt, in
``locale/ru/LC_MESSAGES/convgrader.po``. To add a message, add it to :data:`EN`
and give it a Russian entry in that file, the same placeholders in the same
form (``{error:.2e}`` stays ``{error:.2e}``)::

    msgctxt "my_key"
    msgid "{what} is wrong"
    msgstr "{what} неверно"

``python -m convgrader.messages`` adds the empty entries for you (and
rewrites the ``.pot``); ``tests/selftest/test_messages_i18n.py`` names every
message that still lacks its translation.
"""

from collections.abc import Iterable

from convgrader import language

#: The tags a hint may carry, each a section of docs/reading-failures.md.
HINT_TAGS = ("padding", "stride", "output_shape", "scale", "axes", "nan", "inplace", "dtype",
             "return", "numpy_alias", "forward", "unfinished", "bias", "accumulate", "scalar")

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
    "returned_order": "returned {what} in another order",
    "dtype": "{what} has dtype {actual}, expected {expected}",
    "within": "{what}: got {actual}\n  expected {expected} within {tolerance:.0e} (worst at position {worst})",
    "graded_alone": "{forward} failed on this input ({reason}), so this backward was judged on its own: it "
                    "was called with the cache {cache}, the forward's arguments (see the docstring)",
    "exception": "{type_name} raised by the code under test: {message}",
    "got_sequence": "a {kind} of length {length}",
    "got_object": "a {kind}",
    "got_shapes": "values of shapes {shapes}",
    "verbatim": "{text}",
    "also_wrong": "also wrong: {names}",
    "smallest_input": "smallest input that fails: {input}",
    "values_normal": "normal values",
    "values_integer": "integer values",
    "values_relu": "non-negative values with zeros (as after ReLU)",
    "running_below_eps": "running_var below eps",
    "running_given": "running averages given",
    "failing_input": "input that fails: {input}",

    # ---- the tests' own checks (tests/graded, tests/hidden) ----------------------------------
    "params_keys": "params has keys {got}, expected {expected}",
    "params_mean": "{what} has mean {mean:.3g}, expected about 0",
    "grads_keys": "grads must be a dict keyed like params {expected}; got {got}",
    "grads_numeric": "{what} disagrees with finite differences of the model's own loss: "
                     "error {error:.2e} (max difference / max |numeric|), allowed 1e-2",
    "what_dtype_argument": "{name} (the dtype argument)",
    "what_model_dtype": "{name} (the model's dtype)",
    "what_bias_at_zero": "{name} (biases start at zero)",
    "what_std_of": "std of {name} (weight_scale)",
    "what_scores": "scores (loss called without y)",
    "what_initial_loss": "initial loss without regularization",
    "what_channel_mean": "per-channel mean of out (should equal beta)",
    "what_channel_std": "per-channel std of out (should equal gamma)",
    "what_group_mean": "mean of each group of out",
    "what_group_std": "std of each group of out",
    "fast_unavailable": "the provided fast layers are not available: {message}",
    "bn_param_missing": "bn_param has no {name} after a train-mode pass: write the running average back into bn_param",
    "test_mode_statistics": "test-mode output should have per-channel mean ~0 and std ~1 (within 0.1);\n"
                            "  got means {means}, stds {stds}",
    "overfit_cifar10": "expected clear overfitting: train accuracy >= 0.7 and validation <= 0.4; "
                       "got {train:.2f} and {val:.2f}",
    "one_epoch_cifar10": "training accuracy after one epoch is {train:.3f}; the seed expects more than 0.40",
    "overfit_digits": "expected the 100 training digits to be memorized: training accuracy >= 0.8 "
                      "after 15 epochs; got {train:.2f}",
    "one_epoch_digits": "after one epoch on the digits, expected training accuracy >= 0.7 and validation "
                        ">= 0.6; got {train:.3f} and {val:.3f}",

    # ---- the submission's own failures (plugin.py) ----------------------------------------
    "not_implemented": "not implemented yet",
    "not_implemented_saying": "not implemented yet: {text}",
    "not_implemented_function": "{name} is not implemented yet: write it in {file}",
    "not_implemented_method": "{name} is not implemented yet: write it in {file}",
    "raised": "{type_name}: {message}",
    # ---- the layer functions' worker has no fast layers (running/no_fast_layers.py) -------
    "fast_layers_refused": "{name} must compute {computes} itself; it called the provided {provided} (the rule: a "
                           "graded layer function may not use the fast layers; only ThreeLayerConvNet may, and only "
                           "its tests have them)",
    "computes_conv_forward_naive": "the convolution",
    "computes_conv_backward_naive": "the convolution's gradients",
    "computes_max_pool_forward_naive": "the max pooling",
    "computes_max_pool_backward_naive": "the max pooling's gradient",
    "computes_spatial_batchnorm_forward": "the batch normalization",
    "computes_spatial_batchnorm_backward": "the batch normalization's gradients",
    "computes_spatial_groupnorm_forward": "the group normalization",
    "computes_spatial_groupnorm_backward": "the group normalization's gradients",
    "frame": "  {file}, line {line}, in {function}: {code}",
    "frame_at": "  {file}, line {line}, in {function}",
    "import_failed": "{file} of {label} could not be imported:",
    "defines_no": "{file} of {label} defines no {name}",
    "called_exit": "the submission called sys.exit({code})",
    "raised_interrupt": "the submission raised KeyboardInterrupt",
    "hint_prefix": "hint ({tag}):",
    "cpu_hung": "{name} hung: no result after {budget:g} s of CPU time, not even on a tiny input (an endless loop?)",
    "cpu_too_slow": "{name} is too slow: no result after {budget:g} s of CPU time on this input, though it "
                    "finishes on a tiny one; vectorize the inner loops",
    "cpu_not_run_hung": "not run: {name} hung in {test} (no result even on a tiny input), so it is not called again",

    # ---- the sandbox (running/sandbox.py) ---------------------------------------------------
    "hung_before": "{what} hung in an earlier test (no result even on a tiny input); not called again",
    "run_time_limit": "not run: the grading run reached its time limit",
    "reply_oversized": "{what} sent back {size:,.0f} MB, more than the {cap:,.0f} MB a reply may take; "
                       "return arrays of the expected shapes",
    "reply_unreadable": "{what} sent an unreadable reply ({error})",
    "timed_out_tiny": "{what} timed out on a tiny input",
    "too_slow": "{what} is too slow: no result after {seconds:.0f} s of CPU time on this input, though it "
                "finishes on a tiny one; vectorize the inner loops",
    "hung": "{what} hung: no result after {seconds:.0f} s of CPU time, not even on a tiny input (an endless loop?)",
    "reply_misshapen": "{what} sent an unreadable reply (not shaped as the worker's)",
    "object_lost": "the sandbox restarted after an earlier failure; an object it held (a model or a cache) "
                   "was lost with it",
    "exit_stopped": "{what} was stopped",
    "exit_signal": "{what} crashed with {signal}{why}",
    "signal_segfault": " (segmentation fault)",
    "signal_killed": " (killed, e.g. out of memory)",
    "signal_file_size": " (wrote too large a file)",
    "exit_status": "{what} ended the process with exit status {status} (sys.exit / os._exit)",

    # ---- a plain pytest run's report (plugin.py) ----------------------------------------
    "failures_title": "what failed",
    "printed": "your code printed during this test (printing costs no points):",
    "printed_bytes": "(your code printed {size:,} bytes during this test; the first {shown} characters follow; "
                     "printing costs no points)",
    "cut_characters": "[... {count} more characters cut]",
    "same_failure": "The same failure in other tests of {part} ({count}): {names}",
    "more_failures": "Other tests of {part} failed too ({count}), their messages not shown: {names} "
                     "(pytest -v shows every message)",
    "harness_error": "Some failures have no ready explanation, so pytest's traceback follows. If its last "
                     "lines are not in your code but in convgrader/ or tests/, tell the course staff.",
    "skipped_reason": "Tests skipped: {count}. Reason: {reason}",
    "benchmark_only": "not benchmarks, and --benchmark-only runs benchmarks only",
    "cifar10_missing": "CIFAR-10 is not on this machine, so the training checks on it are skipped "
                       "(they carry no points); the same checks on scikit-learn's digits always run. "
                       "To run them too: python -m convgrader download-cifar10 "
                       "(or point CIFAR10_DIR to the folder cifar-10-batches-py)",
    "table_title": "graded parts",
    "table_row": "{passed}/{total} passed",
    "table_mark_ok": "ok",
    "table_mark_fail": "FAIL",
    "table_mark_skip": "skip",
    "outcome_passed": "{count} passed",
    "outcome_failed": "{count} failed",
    "outcome_skipped": "{count} skipped",

    # ---- the provided Solver's training log (reference/solver.py) ------------------------------
    "solver_iteration": "(Iteration {iteration} / {total}) loss: {loss:f}",
    "solver_time": " ({elapsed}, ~{left} left)",
    "solver_epoch": "(Epoch {epoch} / {epochs}) train acc: {train:f}; val_acc: {val:f}",
    "solver_checkpoint": "Saving checkpoint to \"{filename}\"",
    "seconds_short": "{value:.1f} s",
    "minutes_short": "{value:.0f} min",

    # ---- the benchmarks' table (tests/benchmarks/conftest.py) ---------------------------------
    "bench_title": "naive against fast layers (medians)",
    "bench_layer": "layer",
    "bench_naive": "naive",
    "bench_fast": "fast",
    "bench_times": "times faster",
    "bench_shapes": "inputs as in the notebook: conv x 100x3x31x31, w 25x3x3x3, stride 2, pad 1;\n"
                    "max pool x 100x3x32x32, 2x2, stride 2; float64",
    "unit_s": "s",
    "unit_ms": "ms",
    "unit_us": "us",

    # ---- the grade command's table and report (grade.py) --------------------------------
    "grade_part": "part",
    "grade_passed": "passed",
    "grade_points": "points",
    "grade_total": "total",
    "grade_required": "required parts",
    "grade_bonus_total": "bonus",
    "headline_required": "Grade: {score:.2f} / {max_score:g}",
    "headline_with_bonus": "{required}, bonus {bonus:.2f} / {max_bonus:g}",
    "report_not_graded": "Not graded: {label}",
    "report_failures": "Failures",
    "isolation_namespaces": "namespaces (bubblewrap: own user, process and network namespaces)",
    "isolation_process": "a separate process (no namespaces)",
    "isolation_none": "none (the submission ran in the grader's process)",
    "grade_bonus": "{part} (bonus)",
    "grade_not_run": "Not run here (no points): {names}",
    "grade_tampering": "TAMPERING DETECTED: the submission touched what it must not, so it scores 0:",
    "twin_failed": "Passed on its visible inputs, but scores 0: the same check on fresh inputs of the same shapes, "
                   "parameters and dtype (the hidden test {twin}) failed. In the grade of record a visible test "
                   "counts only when its hidden twin passes too, so answers taken from the visible cases earn "
                   "nothing.",
    "twin_zero_gradients": "every gradient is exactly zero: finite differences of a loss that never changes "
                           "agree with that, but the network at these parameters has non-zero gradients",
    "report_notes": "Notes on your upload:",
    # ---- GitHub Classroom's reporter (judging/classroom.py), one entry per part ----------------
    "classroom_part": "{passed} of {total} tests passed: {score:g} of {max_score:g} points",
    "classroom_first_failure": "First failure, {name}:\n{message}",
    # ---- check("<part>") in the notebook (judging/notebook_check.py) ---------------------------
    "check_summary": "{part}: {passed} of {total} tests passed",
    "check_unwritten": "{part} is not written yet: replace its raise NotImplementedError in {file}, "
                       "then run this cell again",
    "check_not_run": "{part} could not be checked: {reason}",
    "check_first_failure": "First failure: {name}",
    "check_pictures_elsewhere": "(the pictures of expected, yours and the difference show in JupyterLab, "
                                "or in `python -m convgrader grade --html report.html`)",
    # ---- the similarity report (course/similarity.py), read by the instructor --------------------
    "similarity_title": "Similar submissions",
    "similarity_lead": "A score is a lead for a person to read, never a verdict: it measures how much "
                       "code two submissions share once names, comments, formatting and the order of "
                       "functions are set aside, and the skeleton's own code is left out. Short "
                       "solutions of one assignment share idioms; read the marked fragments side by "
                       "side before drawing any conclusion.",
    "similarity_legend": "{count} pair(s), the most similar first; open a pair to see both codes side by "
                         "side, the fragments found in both marked. known: marks a known solution "
                         "(--against).",
    "similarity_more": "{count} more pair(s) are in similarity.csv only.",
    "similarity_skipped": "Not compared",
    "report_rejected": "Your submission could not be graded: {reason}.",
    "report_grading_failed": "Not graded: {reason}. This is not a judgement of your code: the grader will try "
                             "again, or tell your instructor.",
    "report_isolation": "isolation: {level}",
    # ---- cleaning up an upload (course/submissions.py): names are shown escaped ------------
    "upload_not_zip": "{name} is neither a folder nor a .zip archive (other archive formats are not accepted)",
    "upload_bad_zip": "{name} is not a readable .zip archive ({error})",
    "upload_too_many_members": "the archive has {count} entries, more than the {cap} allowed",
    "upload_zip_bomb": "the archive's Python files expand to {size:.0f} MB, more than the {cap:.0f} MB allowed "
                       "(a zip bomb?)",
    "upload_too_large": "the submission's Python files are larger than the {cap:.0f} MB allowed (a zip bomb?)",
    "upload_absolute": "the archive's entry {name} has an absolute path",
    "upload_outside": "the archive's entry {name} would be written outside the submission's folder (..)",
    "upload_zip_symlink": "the archive's entry {name} is a symbolic link",
    "upload_entry_unreadable": "the archive's entry {name} cannot be read ({error})",
    "upload_ignored": "ignored {count} file(s) that are not Python sources: {names}",
    "upload_no_layers": "no {layers} found (expected a folder laid out like student_impl/: {layers} and {model})",
    "upload_several_layers": "several {layers} found ({names}); graded {graded}",
    "upload_no_model": "no {model} next to {layers}: the model's tests will fail",
    "upload_reencoded": "{name} was not UTF-8: re-encoded from {encoding}",
    "upload_syntax_error": "{name} has a syntax error at line {line}: {error} (its tests will fail)",
    "upload_not_compilable": "{name} cannot be compiled: {error}",
    "upload_symlink_skipped": "skipped symbolic link {name}",
    "upload_too_deep": "left out {name}: it is nested more than {depth} folders deep",
    "upload_unwritable": "left out {name}: the file system refuses its name or place ({reason})",
    "upload_too_many_entries": "the submission holds more than {count} files and folders",

    # ---- parts of hints (diagnostics.py) -------------------------------------------------
    "variant_no_plus_one": " (yours is the formula without its '1 +')",
    "variant_one_too_many": " (one too many)",
    "pad_one_side": "{pad} on one side only",
    "axes_all": "all",
    "index_at": "index {index}",
    "axis_sized": "{name} (size {size})",
    "axis_one": "axis {axis}",
    "axes_many": "axes {axes}, {last}",
    "word_filter": "filter",
    "word_channel": "channel",
    "region_channel": "channel 0 of dout",
    "over_channel": "N, H and W of each channel",
    "region_group": "channels 0..{last} of sample 0 in dout (group 0)",
    "over_group": "the channels of each group",
    "layout_plain_reshape": "a plain reshape(-1, C) of (N, C, H, W)",
    "over_nhw_per_channel": "(N, H, W) for each channel",
    "over_hw_per_sample_channel": "(H, W) for each sample and channel",
    "over_chw_per_sample": "(C, H, W) for each sample",
    "over_n_only": "N only, for each channel and position",
    "over_everything": "all of (N, C, H, W) at once",
    "over_groups_consecutive": "each sample's groups of consecutive channels",
    "over_groups_strided": "groups of every G-th channel (channel c in group c % G), not consecutive channels",
    "over_groups_swapped": "C // G groups of G channels, not G groups of C // G channels",
    "over_groups_batch": "each group over the whole batch",
    "size_batch": "N (the batch size)",
    "factor_named": " (= {name})",
    "factor_unbiased_std": "sqrt((M - 1) / M), M = {m}: the unbiased variance (ddof=1) where np.var's biased one belongs",
    "factor_unbiased_var": "M / (M - 1), M = {m}: the unbiased variance (ddof=1) where np.var's biased one belongs",

    # ---- the HTML report (html_report.py) --------------------------------------------------
    "html_graded_at": "graded {when}",
    "html_failed_tests": "Failed tests ({count})",
    "html_hidden_test": "hidden test",
    "html_more_failures": "Other tests of {part} failed too ({count}), their messages not shown: {names}",
    "html_smallest": "Smallest failing input: {name} with {inputs}. Run it alone:",
    "html_expected": "expected {what}",
    "html_yours": "your {what}",
    "html_difference": "|difference|",
    "html_difference_overlap": "|difference| (top-left overlap)",
    "html_colours": "colours: blue negative, white 0, red positive, up to ±{scale}; difference white 0 to black {biggest}",
    "html_shapes_differ": "shapes differ: expected {expected}, yours {actual}",
    "html_magenta": "magenta: NaN or inf",
    "html_from_row": "{where}, from row {row}",
    "html_from_row_column": "{where}, from row {row}, column {column}",
    "html_slice": "{where} (the slice with the largest difference)",

    # ---- hints (judging/diagnostics/), keyed "<tag>.<case>" ------------------------------------
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
                            "shortens a slice that runs past the end, so the array the windows are cut from "
                            "is too small at the bottom or right; it needs H + 2·pad rows and W + 2·pad "
                            "columns: pad both sides (np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))) "
                            "and cut the windows from the padded array, not from x",
    "padding.empty_crop": "{what} has shape {shape}, empty along H or W, and pad is 0 here: the crop "
                          "a[:, :, pad:-pad, pad:-pad] is a[:, :, 0:0, 0:0] when pad = 0, since -0 is 0; "
                          "write a[:, :, pad:pad + H, pad:pad + W]",
    "padding.every_axis": "{what} has shape {shape}, {extra} = 2·pad larger along every axis, N and C "
                          "included: np.pad(x, pad) with a single number pads every axis; pad H and W only, "
                          "np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))), and crop the same axes",
    "padding.every_axis_broadcast": "an array of shape {large} meets one of shape {small}, {extra} larger "
                                    "along the first axis only: if that axis is the channels of a window cut "
                                    "from x_pad, x_pad has 2·pad channels too many, as np.pad(x, pad) with a "
                                    "single number pads every axis, N and C too; pad H and W only: "
                                    "np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))",
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
    "axes.not_averaged": "{what} averaged over its {axes} would be right: the batch statistics behind "
                         "it are taken over every sample and position of a channel, axis=(0, 2, 3) of "
                         "(N, C, H, W)",
    "axes.over_reduced": "{what} lacks an axis of size {size}: it was summed over an axis it must keep",
    "output_shape.reshaped": "{what} has the right values in shape {actual}: give it the shape {expected} "
                             "(that of the parameter, e.g. keepdims=True or .reshape)",
    "output_shape.reshaped_role": "{what} has the right values, but in shape {actual} instead of "
                                  "{expected}: {rule}",
    "output_shape.rule_gradient": "a gradient has the shape of what it is the gradient of ({of}); "
                                  "use keepdims=True or .reshape",
    "output_shape.rule_running_average": "a running average holds one value per channel, shaped like "
                                         "gamma and beta; take the batch statistics without keepdims (or "
                                         ".reshape(C) them) before mixing them in",
    "output_shape.rule_parameter": "a parameter keeps the shape the contract gives it",
    "output_shape.rule_output": "the output has the axes {axes}",
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
    "output_shape.true_division": "a size or an index is a float: in Python 3, / always gives a float, even "
                                  "for 6 / 2, and np.zeros, range and slices refuse floats; compute output sizes "
                                  "with // ({formula}), which is exact on the assignment's shapes",
    "scale.eps": "{what} is normalized as if eps were {found:.1e}, not {eps:g}: take eps from {params} "
                 "({params}.get('eps', 1e-5)) and add it to the variance inside the square root",
    "return.none": "the function returned None: is the `return` statement missing, or inside a loop?",
    "return.count": "return a tuple of {count} values, {what}: e.g. `return {example}`",
    "return.order": "the returned values come in the order {got} (judged by their shapes): return them in the "
                    "order {what}, `return {example}`",
    "return.unpack": "a function returned a different number of values than its caller unpacks: "
                     "forward functions return (out, cache), backward functions their gradients, "
                     "and a function without `return` returns None",
    "numpy_alias.removed": "np.{name} was removed from NumPy (in 1.24 or 2.0; older course code uses it): "
                           "write {replacement} instead",
    "unfinished.zeros": "{what} is all zeros: nothing was ever written into it. Is the function "
                        "unfinished (the array allocated and returned before the loop that fills it), does "
                        "a loop never run, or do the writes go to a copy (a[idx][mask] = ... assigns into a "
                        "temporary)?",
    "unfinished.unchanged": "{what} is {given}, unchanged: the function returns its input as it came; "
                            "is the computation still to be written, or is its result assigned to another "
                            "name than the one returned?",
    "bias.missing": "{what} is off by -{name} in every {channel}: {name} is never added ({formula})",
    "bias.twice": "{what} is off by +{name} in every {channel}: {name} is added twice ({formula})",
    "bias.constant": "{what} is off by one constant per {channel}, e.g. {what} of {channel} 0 has "
                     "{example:.6g} added where {name}[0] belongs: add each {channel}'s own {name} once "
                     "({formula})",
    "accumulate.overwritten": "{count} values of {what} hold one window's gradient where overlapping "
                              "windows that share a maximum should add theirs, e.g. at {where}: yours "
                              "{got:.8g}, the sum {wanted:.8g}: when the stride is smaller than the window, "
                              "add into dx (dx[...] += ...) instead of assigning",
    "scalar.int_of_array": "int() or float() was given an array with an axis (e.g. the shape (1,) arrays "
                           "np.where or np.argwhere return): NumPy 2 raises this TypeError where NumPy 1 "
                           "only warned; take the element (a[0] or a.item()), or find the position with "
                           "np.argmax and np.unravel_index, which give integers",
    "forward.consistent": "your {what} agrees with finite differences of your own {forward}, but that "
                          "forward pass is wrong on this input: fix {forward} first",
    "forward.also_wrong": "your {forward} is also wrong on this input: fix it first, then the backward",
}



class Said(str):
    """A sentence as the harness said it: its text now, and its key and fields to say it again.

    It is a ``str`` (the text in the language of the moment), so it prints and
    compares as text; but a writer that speaks another language re-renders it
    from ``key`` and ``fields`` (:meth:`in_language`), and code that needs to
    know what was said (a hint's tag) reads the attributes, never the text.
    A field may itself be a :class:`Said` (a part of the sentence), said again in
    the same language. Several lines said together are one :class:`Said` with
    ``key`` None and the lines in ``parts``.

    Attributes
    ----------
    key : str or None
        The message's key in :data:`EN`; None for lines said together.
    fields : dict
        The fields, as plain data: str, int, float, bool, None or Said.
    parts : tuple of Said
        The atomic sentences: ``(self,)``, or the lines said together.
    """

    key: "str | None"
    fields: dict
    parts: tuple

    def __new__(cls, key: str | None, fields: dict | None = None, parts: Iterable | None = None) -> "Said":
        fields = {name: plain(value) for name, value in (fields or {}).items()}
        if key is None:  # lines said together: flat, each a Said (other text is shown verbatim)
            lines = tuple(inner for part in parts or () if part
                          for inner in (part.parts if isinstance(part, Said) else (verbatim(part),)))
            said = super().__new__(cls, "\n".join(lines))
            said.parts = lines
        else:
            said = super().__new__(cls, render(key, fields))
            said.parts = (said,)
        said.key, said.fields = key, fields
        return said

    def __reduce__(self) -> tuple:  # pickled (xdist, multiprocessing) as data, not as its text
        return Said.from_data, (self.to_data(),)

    @property
    def tag(self) -> str | None:
        """The hint's tag (``"padding"``) when this is a hint, else None."""
        return self.key.split(".", 1)[0] if self.key and "." in self.key else None

    def in_language(self, code: str) -> str:
        """The text of this sentence in the language ``code``."""
        if self.key is None:
            return "\n".join(part.in_language(code) for part in self.parts)
        return render(self.key, self.fields, code)

    def to_data(self) -> dict:
        """Plain JSON data from which :meth:`from_data` says it again."""
        if self.key is None:
            return {"lines": [part.to_data() for part in self.parts]}
        return {"said": self.key, "fields": {name: value.to_data() if isinstance(value, Said) else value
                                             for name, value in self.fields.items()}}

    @classmethod
    def from_data(cls, data: dict) -> "Said":
        """The :class:`Said` of :meth:`to_data`'s output (KeyError or TypeError when it is not one)."""
        if "lines" in data:
            return cls(None, parts=[cls.from_data(part) for part in data["lines"]])
        if data["said"] not in EN:
            raise KeyError(data["said"])
        return cls(data["said"], {name: cls.from_data(value) if isinstance(value, dict) else value
                                  for name, value in data["fields"].items()})


def plain(value: object) -> object:
    """A field's value as data that survives JSON and formats as it did: Said and scalars kept, the rest as text."""
    if value is None or isinstance(value, (Said, bool, int, float, str)):
        return value
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # a numpy scalar
        return plain(value.item())
    return str(value)


def render(key: str, fields: dict, code: str | None = None) -> str:
    """The message ``key`` with ``fields`` in the language ``code`` (the current one by default).

    Fields that are :class:`Said` are said in the same language. A translation
    that does not fit the fields (a placeholder misspelt in the ``.po``) falls
    back to English rather than breaking the test it reports on.
    """
    code = code or language.current()
    filled = {name: value.in_language(code) if isinstance(value, Said) else value for name, value in fields.items()}
    try:
        text = language.translate(key, EN[key], code).format(**filled)
    except (KeyError, IndexError, ValueError, TypeError):
        try:
            text = EN[key].format(**filled)
        except (KeyError, IndexError, ValueError, TypeError):  # fields that do not fit: shown as they are
            text = f"{key}: " + ", ".join(f"{name}={value}" for name, value in filled.items())
    if "." in key:  # a hint starts with its marker
        tag = key.split(".", 1)[0]
        return render("hint_prefix", {"tag": tag}, code) + " " + text
    return text


def say(key: str, **fields: object) -> Said:
    """The message ``key`` in the current language, with ``fields`` filled in, as a :class:`Said`."""
    return Said(key, fields)


def hint(key: str, **fields: object) -> Said:
    """A hint: ``hint (<tag>): <message>``, where ``key`` is ``"<tag>.<case>"``; a :class:`Said`."""
    assert key.split(".", 1)[0] in HINT_TAGS, key
    return Said(key, fields)


def verbatim(text: object) -> Said:
    """Text that is data, not a sentence of the harness (a traceback, pytest's own lines): said as it is."""
    return Said("verbatim", {"text": str(text)})


def together(*lines: "str | None") -> Said:
    """Several sentences said as one text, one per line, each kept as said (a :class:`Said`)."""
    return Said(None, parts=[line for line in lines if line])


def text_in(value: object, code: str) -> str:
    """``value`` in the language ``code``: a :class:`Said` said again, any other text as it is."""
    return value.in_language(code) if isinstance(value, Said) else str(value)


def marker(tag: str) -> Said:
    """The text every hint with ``tag`` starts with, in the current language (what self-tests look for)."""
    return say("hint_prefix", tag=tag)


if __name__ == "__main__":
    language.update_files(EN)
    print(f"wrote {language.pot_path()} and merged it into "
          + ", ".join(str(language.po_path(code)) for code in language.LANGUAGES[1:]))
