"""The pattern detectors of convgrader.judging.diagnostics on synthetic arrays.

Each detector is shown its pattern (it must name the right tag) and a random
error of the same size (it must stay silent): a hint that points at the wrong
bug is worse than none.
"""

import numpy as np
import pytest

from convgrader import messages
from convgrader.judging.diagnostics import (Context, Window, explain, explain_exception, explain_exception_text,
                                            explain_order, explain_shape, index_label)

TOL = 1e-5
rng = np.random.RandomState(0)


def tags(hints):
    return {line.split("(", 1)[1].split(")", 1)[0] for line in hints}


def conv_context(x_shape=(2, 3, 6, 6), window=(3, 3), stride=1, pad=1, **more):
    x = rng.randn(*x_shape)
    return Context(area="conv", inputs={"x": x, "conv_param": {"stride": stride, "pad": pad}},
                   arguments=("x", "conv_param"), gradient_of={"dx": "x"},
                   window=Window(*window, stride=stride, pad=pad), **more)


def pool_context(x, window=(2, 2), stride=2, dout=None):
    return Context(area="pool", inputs={"x": x}, gradient_of={"dx": "x"},
                   window=Window(*window, stride=stride, pooling=True), dout=dout)


def random_error(expected, size=0.1):
    return expected + size * rng.randn(*expected.shape)


# ---- no hint on a random error ------------------------------------------------------------

@pytest.mark.parametrize("context", [None, conv_context(), pool_context(rng.randn(2, 3, 6, 6))],
                         ids=["none", "conv", "pool"])
def test_a_random_error_gets_no_hint(context):
    expected = rng.randn(2, 3, 6, 6)
    assert explain(random_error(expected), expected, "out", context, TOL) == []


def test_a_random_normalization_error_gets_no_hint():
    x, gamma, beta = rng.randn(2, 3, 4, 5), rng.rand(3) + 0.5, rng.randn(3)
    context = Context(area="spatial_batchnorm", inputs={"x": x, "gamma": gamma, "beta": beta,
                                                        "bn_param": {"mode": "train"}},
                      sizes={"N·H·W": 40}, dout=rng.randn(2, 3, 4, 5))
    out = gamma.reshape(1, 3, 1, 1) * batch_normalized(x) + beta.reshape(1, 3, 1, 1)
    assert explain(random_error(out), out, "out", context, TOL) == []
    assert explain(random_error(out), out, "dx", context, TOL) == []


def test_a_wrong_shape_of_no_known_kind_gets_no_hint():
    assert explain(rng.randn(3, 7), rng.randn(5, 2), "scores", None, TOL) == []


# ---- padding ---------------------------------------------------------------------------------

def test_errors_only_on_the_border_point_at_padding():
    expected = rng.randn(2, 3, 6, 6)
    actual = expected.copy()
    actual[:, :, 0, :] += 1.0
    actual[:, :, :, -1] -= 1.0
    assert tags(explain(actual, expected, "out", conv_context(), TOL)) == {"padding"}


def test_border_errors_without_padding_get_no_padding_hint():
    expected = rng.randn(2, 3, 6, 6)
    actual = expected.copy()
    actual[:, :, 0, :] += 1.0
    assert "padding" not in tags(explain(actual, expected, "out", conv_context(pad=0), TOL))


def test_a_shifted_array_points_at_padding():
    expected = rng.randn(2, 3, 6, 6)
    actual = np.zeros_like(expected)
    actual[:, :, :-1, :-1] = expected[:, :, 1:, 1:]  # padded on one side: content moves up and left
    hints = explain(actual, expected, "out", conv_context(), TOL)
    assert tags(hints) == {"padding"} and "(-1, -1)" in hints[0]


def test_an_uncropped_dx_points_at_padding():
    context = conv_context(x_shape=(2, 3, 5, 5), pad=2)
    hints = explain(rng.randn(2, 3, 9, 9), rng.randn(2, 3, 5, 5), "dx", context, TOL)
    assert tags(hints) == {"padding"}


# ---- shapes: output_shape, stride, padding, axes ---------------------------------------------

@pytest.mark.parametrize("got, tag", [((5, 5), "output_shape"),   # no "1 +": (6 + 2 - 3) // 1
                                      ((2, 2), "stride"),         # the window size as stride: 1 + 5 // 3
                                      ((7, 7), "output_shape")])  # one too many
def test_an_output_shape_from_another_formula_is_named(got, tag):
    expected = rng.randn(2, 4, 6, 6)
    hints = explain(rng.randn(2, 4, *got), expected, "out", conv_context(), TOL)
    assert tag in tags(hints)


def test_an_output_shape_of_another_pad_points_at_padding():
    hints = explain(rng.randn(2, 4, 4, 4), rng.randn(2, 4, 6, 6), "out", conv_context(pad=1), TOL)
    assert "padding" in tags(hints)
    hints = explain(rng.randn(2, 4, 6, 6), rng.randn(2, 4, 8, 8), "out", conv_context(pad=2), TOL)
    assert "padding" in tags(hints) and "one side" in hints[0]  # 1 + (6 + 2 - 3)


def test_pool_height_and_width_exchanged_points_at_axes():
    context = pool_context(rng.randn(2, 2, 5, 6), window=(2, 3), stride=1)
    hints = explain(rng.randn(2, 2, 3, 5), rng.randn(2, 2, 4, 4), "out", context, TOL)
    assert "axes" in tags(hints)


def test_transposed_values_point_at_axes():
    expected = rng.randn(2, 3, 5, 5)
    assert tags(explain(expected.transpose(0, 1, 3, 2), expected, "out", None, TOL)) == {"axes"}
    matrix = rng.randn(4, 7)
    assert tags(explain(matrix.T, matrix, "W2", None, TOL)) == {"axes"}


def test_a_gradient_not_summed_over_the_batch_points_at_axes():
    per_sample = rng.randn(4, 3)
    assert tags(explain(per_sample, per_sample.sum(axis=0), "db", None, TOL)) == {"axes"}
    kept = rng.randn(2, 6, 1, 1)
    assert tags(explain(kept, kept.sum(axis=0, keepdims=True), "dgamma", None, TOL)) == {"axes"}


def test_right_values_in_the_wrong_shape_point_at_output_shape():
    values = rng.randn(1, 6, 1, 1)
    assert tags(explain(values.ravel(), values, "dgamma", None, TOL)) == {"output_shape"}


def test_a_parameter_shape_four_times_too_large_mentions_the_pooling():
    hinted = explain_shape((768, 7), (192, 7), "params['W2']")
    assert hinted.startswith(messages.marker("output_shape")) and "pool" in hinted
    assert explain_shape((7, 192), (192, 7), "params['W2']").startswith(messages.marker("axes"))
    assert explain_shape((191, 7), (192, 7), "params['W2']") is None


# ---- values: scale, nan, dtype ------------------------------------------------------------------

def test_a_constant_factor_is_named():
    expected = rng.randn(3, 4)
    context = Context(sizes={"N (the batch size)": 3})
    hints = explain(3 * expected, expected, "grads['W3']", context, TOL)
    assert tags(hints) == {"scale"} and "N (the batch size)" in hints[0]


def test_a_scalar_off_by_an_unnamed_factor_gets_no_hint():
    assert explain(np.float64(1.7), np.float64(1.2), "loss", None, TOL) == []
    assert tags(explain(np.float64(2.4), np.float64(1.2), "loss", None, TOL)) == {"scale"}


def test_a_normalization_with_the_unbiased_variance_is_named():
    x, gamma, beta = rng.randn(2, 3, 4, 5), rng.rand(3) + 0.5, rng.randn(3)
    context = Context(area="spatial_batchnorm", inputs={"x": x, "gamma": gamma, "beta": beta},
                      sizes={"N·H·W": 40})
    g, b = gamma.reshape(1, 3, 1, 1), beta.reshape(1, 3, 1, 1)
    centered = x - x.mean(axis=(0, 2, 3), keepdims=True)
    expected = g * centered / x.std(axis=(0, 2, 3), keepdims=True) + b
    unbiased = g * centered / x.std(axis=(0, 2, 3), keepdims=True, ddof=1) + b
    hints = explain(unbiased, expected, "out", context, TOL)
    assert tags(hints) == {"scale"} and "ddof=1" in hints[0]


def test_nan_and_inf_are_named():
    expected = rng.randn(2, 3)
    actual = expected.copy()
    actual[1, 2] = np.nan
    assert tags(explain(actual, expected, "out", None, TOL)) == {"nan"}


def test_an_integer_result_points_at_dtype():
    expected = rng.randn(2, 3) * 10
    assert "dtype" in tags(explain(expected.astype(int), expected, "out", None, TOL))


# ---- windows: stride and the routing of max-pool gradients --------------------------------------

def test_windows_moving_by_one_instead_of_the_stride_point_at_stride():
    unit = rng.randn(2, 3, 7, 7)  # what every window position gives at stride 1
    expected, actual = unit[:, :, ::2, ::2], unit[:, :, :4, :4]
    context = conv_context(x_shape=(2, 3, 7, 7), stride=2, pad=1)
    assert tags(explain(actual, expected, "out", context, TOL)) == {"stride"}


def test_max_pool_outputs_from_windows_of_another_step_point_at_stride():
    x = rng.randn(1, 2, 8, 8)

    def pooled(step):
        return np.array([[[[x[n, c, i * step:i * step + 2, j * step:j * step + 2].max() for j in range(3)]
                           for i in range(3)] for c in range(2)] for n in range(1)])

    hints = explain(pooled(2), pooled(3), "out", pool_context(x, stride=3), TOL)
    assert tags(hints) == {"stride"}


def test_max_pool_gradients_inside_the_right_window_on_the_wrong_element_point_at_axes():
    dout = rng.randn(1, 1, 2, 2)
    expected, actual = np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 4, 4))
    for i in range(2):
        for j in range(2):
            expected[0, 0, 2 * i, 2 * j + 1] = dout[0, 0, i, j]
            actual[0, 0, 2 * i + 1, 2 * j] = dout[0, 0, i, j]  # row and column of the maximum exchanged
    context = pool_context(rng.randn(1, 1, 4, 4), dout=dout)
    assert tags(explain(actual, expected, "dx", context, TOL)) == {"axes"}


def test_max_pool_gradients_in_stride_one_windows_point_at_stride():
    dout = rng.randn(1, 1, 2, 2)
    expected, actual = np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 4, 4))
    for i in range(2):
        for j in range(2):
            expected[0, 0, 2 * i, 2 * j] = dout[0, 0, i, j]
            actual[0, 0, i, j + 1] = dout[0, 0, i, j]
    context = pool_context(rng.randn(1, 1, 4, 4), dout=dout)
    assert tags(explain(actual, expected, "dx", context, TOL)) == {"stride"}


def test_max_pool_gradients_added_to_the_whole_window_get_no_routing_hint():
    dout = rng.randn(1, 1, 2, 2)
    expected = np.zeros((1, 1, 4, 4))
    expected[0, 0, ::2, ::2] = dout[0, 0]
    actual = np.kron(dout, np.ones((2, 2)))
    context = pool_context(rng.randn(1, 1, 4, 4), dout=dout)
    assert explain(actual, expected, "dx", context, TOL) == []


# ---- normalizations ------------------------------------------------------------------------------

def batch_normalized(x, axes=(0, 2, 3)):
    return (x - x.mean(axis=axes, keepdims=True)) / x.std(axis=axes, keepdims=True)


def test_statistics_over_the_wrong_axes_are_named():
    x, gamma, beta = rng.randn(2, 3, 4, 5) * 3 + 1, rng.rand(3) + 0.5, rng.randn(3)
    g, b = gamma.reshape(1, 3, 1, 1), beta.reshape(1, 3, 1, 1)
    context = Context(area="spatial_batchnorm",
                      inputs={"x": x, "gamma": gamma, "beta": beta, "bn_param": {"mode": "train"}})
    expected = g * batch_normalized(x) + b
    for axes in ((2, 3), (0,), (1, 2, 3)):
        hints = explain(g * batch_normalized(x, axes) + b, expected, "out", context, TOL)
        assert tags(hints) == {"axes"}, axes


def test_group_norm_over_interleaved_channels_is_named():
    x, G = rng.randn(2, 6, 3, 3), 3
    gamma, beta = np.ones((1, 6, 1, 1)), np.zeros((1, 6, 1, 1))
    context = Context(area="spatial_groupnorm", inputs={"x": x, "gamma": gamma, "beta": beta, "G": G})
    expected = batch_normalized(x.reshape(2, G, -1), (2,)).reshape(x.shape)
    strided = batch_normalized(x.reshape(2, 2, G, 3, 3), (1, 3, 4)).reshape(x.shape)
    hints = explain(strided, expected, "out", context, TOL)
    assert tags(hints) == {"axes"} and "c % G" in hints[0]


def group_normalized(x, G, eps, gamma, beta):
    groups = x.reshape(x.shape[0], G, -1)
    centred = groups - groups.mean(axis=2, keepdims=True)
    return gamma * (centred / np.sqrt(groups.var(axis=2, keepdims=True) + eps)).reshape(x.shape) + beta


def test_group_norm_with_another_eps_is_named_and_another_formula_is_not():
    # Groups of very different, small variances: eps matters, and a wrong formula shows.
    x, G = rng.randn(2, 4, 3, 3) * np.array([0.01, 0.01, 0.05, 0.05]).reshape(1, 4, 1, 1), 2
    gamma, beta = rng.rand(1, 4, 1, 1) + 0.5, rng.randn(1, 4, 1, 1)
    context = Context(area="spatial_groupnorm",
                      inputs={"x": x, "gamma": gamma, "beta": beta, "G": G, "gn_param": {"eps": 1e-3}})
    expected = group_normalized(x, G, 1e-3, gamma, beta)
    hints = explain(group_normalized(x, G, 1e-8, gamma, beta), expected, "out", context, TOL)
    assert tags(hints) == {"scale"} and "eps were 1.0e-08" in hints[0], hints
    groups = x.reshape(2, G, -1)
    outside = gamma * ((groups - groups.mean(axis=2, keepdims=True))
                       / (groups.std(axis=2, keepdims=True) + 1e-3)).reshape(x.shape) + beta
    assert not any("eps were" in line for line in explain(outside, expected, "out", context, TOL))
    noise = expected + 1e-3 * rng.randn(*x.shape)
    assert explain(noise, expected, "out", context, TOL) == []


def test_terms_through_the_statistics_too_large_point_at_scale():
    x, gamma, dout = rng.randn(2, 3, 4, 5), rng.rand(3) + 0.5, rng.randn(2, 3, 4, 5)
    context = Context(area="spatial_batchnorm", inputs={"x": x, "gamma": gamma, "bn_param": {}},
                      dout=dout, sizes={"H·W": 20})
    direct = gamma.reshape(1, 3, 1, 1) * dout / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
    terms = rng.randn(*x.shape)
    hints = explain(direct - 20 * terms, direct - terms, "dx", context, TOL)
    assert tags(hints) == {"scale"} and "H·W" in hints[0]


def test_a_backward_that_mixes_channels_points_at_axes():
    x, dout = rng.randn(2, 3, 4, 5), rng.randn(2, 3, 4, 5)

    def forward(x, gamma, beta, bn_param):
        return x, None

    def mixing_backward(dout, cache):
        return np.roll(dout, 1, axis=1), None, None

    def local_backward(dout, cache):
        return 2 * dout, None, None

    def context(backward):
        return Context(area="spatial_batchnorm", inputs={"x": x, "gamma": None, "beta": None, "bn_param": {}},
                       arguments=("x", "gamma", "beta", "bn_param"), dout=dout,
                       forward=forward, backward=backward)

    expected = rng.randn(*x.shape)
    assert tags(explain(random_error(expected), expected, "dx", context(mixing_backward), TOL)) == {"axes"}
    assert explain(random_error(expected), expected, "dx", context(local_backward), TOL) == []


def test_db_from_a_plain_reshape_points_at_axes():
    dout = rng.randn(2, 3, 4, 5)
    context = Context(dout=dout)
    actual = dout.reshape(-1, 3).sum(axis=0)
    assert tags(explain(actual, dout.sum(axis=(0, 2, 3)), "dbeta", context, TOL)) == {"axes"}


# ---- detectors that call the submission's own functions --------------------------------------

def test_a_backward_that_ignores_the_stride_is_recognised_by_calling_it():
    x, stride = rng.randn(1, 1, 5, 5), 2

    def forward(x, conv_param):
        size = 1 + (5 - 1) // conv_param["stride"]
        return np.zeros((1, 1, size, size)), conv_param

    def backward(dout, cache):  # puts dout[i, j] at (i, j) whatever the stride
        dx = np.zeros((1, 1, 5, 5))
        dx[:, :, :dout.shape[2], :dout.shape[3]] = dout
        return dx

    dout = rng.randn(1, 1, 3, 3)
    expected = np.zeros((1, 1, 5, 5))
    expected[:, :, ::2, ::2] = dout
    context = Context(area="pool", inputs={"x": x, "pool_param": {"stride": stride}},
                      arguments=("x", "pool_param"), gradient_of={"dx": "x"},
                      window=Window(1, 1, stride, pooling=True), dout=dout, forward=forward, backward=backward)
    hints = explain(backward(dout, None), expected, "dx", context, TOL)
    assert "stride" in tags(hints)


@pytest.mark.parametrize("consistent", [True, False])
def test_a_backward_is_checked_against_its_own_wrong_forward(consistent):
    x, dout = rng.randn(2, 3), rng.randn(2, 3)

    def forward(x):
        return 2 * x, None  # wrong: the expected forward is the identity

    def backward(dout, cache):
        return 2 * dout if consistent else 3 * dout

    context = Context(inputs={"x": x}, arguments=("x",), gradient_of={"dx": "x"}, out=x, dout=dout,
                      forward=forward, backward=backward)
    hints = explain(backward(dout, None), dout, "dx", context, TOL)
    assert "forward" in tags(hints)
    assert ("agrees with finite differences" in hints[-1]) == consistent


def test_a_detector_that_crashes_is_silent():
    def forward(*args):
        raise RuntimeError("the submission crashed again")

    context = Context(inputs={"x": rng.randn(3)}, arguments=("x",), gradient_of={"dx": "x"}, out=rng.randn(3),
                      dout=rng.randn(3), forward=forward, backward=forward)
    expected = rng.randn(3)
    assert explain(random_error(expected), expected, "dx", context, TOL) == []


# ---- results never computed: named alone, before any pattern ---------------------------------

def test_an_all_zero_result_is_named_alone_before_any_pattern_hint():
    x, stride = rng.randn(1, 1, 5, 5), 2

    def forward(x, conv_param):
        size = 1 + (5 - 1) // conv_param["stride"]
        return np.zeros((1, 1, size, size)), conv_param

    def unfinished_backward(dout, cache):
        return np.zeros((1, 1, 5, 5))

    dout = rng.randn(1, 1, 3, 3)
    expected = np.zeros((1, 1, 5, 5))
    expected[:, :, ::2, ::2] = dout
    context = Context(area="pool", inputs={"x": x, "pool_param": {"stride": stride}},
                      arguments=("x", "pool_param"), gradient_of={"dx": "x"},
                      window=Window(1, 1, stride, pooling=True), dout=dout, forward=forward,
                      backward=unfinished_backward)
    hints = explain(np.zeros((1, 1, 5, 5)), expected, "dx", context, TOL)
    assert tags(hints) == {"unfinished"} and "all zeros" in hints[0]  # not "stride", which also fits


def test_an_input_returned_unchanged_is_named():
    x = rng.randn(2, 3, 4, 5)
    context = Context(area="spatial_batchnorm", inputs={"x": x, "gamma": np.ones(3), "beta": np.zeros(3),
                                                        "bn_param": {"mode": "train"}})
    hints = explain(x.copy(), batch_normalized(x), "out", context, TOL)
    assert tags(hints) == {"unfinished"} and "out is x, unchanged" in hints[0]


def test_a_result_that_is_partly_zero_or_right_gets_no_unfinished_hint():
    expected = rng.randn(2, 3, 4, 4)
    partly = expected.copy()
    partly[:, :, 0] = 0.0
    assert "unfinished" not in tags(explain(partly, expected, "out", conv_context(x_shape=(2, 3, 4, 4)), TOL))
    x = rng.randn(2, 3, 4, 4)
    assert explain(x, x.copy(), "out", Context(inputs={"x": x}), TOL) == []


# ---- a missing bias -----------------------------------------------------------------------------

def conv_with_bias(b):
    context = conv_context(x_shape=(2, 3, 6, 6))
    context.inputs["b"] = b
    return context


@pytest.mark.parametrize("sign, word", [(-1, "never added"), (1, "added twice")])
def test_an_output_off_by_the_bias_in_every_filter_points_at_the_bias(sign, word):
    b, expected = rng.randn(4), rng.randn(2, 4, 6, 6)
    hints = explain(expected + sign * b.reshape(1, 4, 1, 1), expected, "out", conv_with_bias(b), TOL)
    assert tags(hints) == {"bias"} and word in hints[0]


def test_a_constant_per_filter_other_than_the_bias_points_at_the_bias():
    b, expected = rng.randn(4), rng.randn(2, 4, 6, 6)
    actual = expected - b.reshape(1, 4, 1, 1) + b[0]  # b[0] added for every filter
    hints = explain(actual, expected, "out", conv_with_bias(b), TOL)
    assert tags(hints) == {"bias"} and "per filter" in hints[0]


def test_a_normalization_off_by_beta_points_at_the_bias_but_not_by_another_constant():
    x, gamma, beta = rng.randn(2, 3, 4, 5), rng.rand(3) + 0.5, rng.randn(3)
    context = Context(area="spatial_batchnorm", inputs={"x": x, "gamma": gamma, "beta": beta,
                                                        "bn_param": {"mode": "train"}})
    expected = gamma.reshape(1, 3, 1, 1) * batch_normalized(x) + beta.reshape(1, 3, 1, 1)
    hints = explain(expected - beta.reshape(1, 3, 1, 1), expected, "out", context, TOL)
    assert tags(hints) == {"bias"} and "beta is never added" in hints[0]
    # A constant per channel that is not beta may be a wrong mean: no bias hint.
    assert "bias" not in tags(explain(expected + rng.randn(1, 3, 1, 1), expected, "out", context, TOL))


def test_a_random_error_with_a_bias_gets_no_bias_hint():
    b, expected = rng.randn(4), rng.randn(2, 4, 6, 6)
    assert explain(random_error(expected), expected, "out", conv_with_bias(b), TOL) == []


# ---- max-pool gradients overwritten where windows overlap ---------------------------------------

def overlapping_pool_gradients():
    """dout, and dx summed and assigned, of a 2x2 stride-1 pool on a 1x1x3x4 input whose windows of
    columns 0-1 and 1-2 share the maximum at (1, 1), those of columns 2-3 the one at (1, 3)."""
    dout = rng.randn(1, 1, 2, 3)
    summed, assigned = np.zeros((1, 1, 3, 4)), np.zeros((1, 1, 3, 4))
    for i in range(2):
        for j in range(3):
            where = (0, 0, 1, 1) if j < 2 else (0, 0, 1, 3)
            summed[where] += dout[0, 0, i, j]
            assigned[where] = dout[0, 0, i, j]  # the bug: the last window's value survives
    return dout, summed, assigned


def test_gradients_assigned_where_pooling_windows_overlap_point_at_accumulate():
    dout, expected, actual = overlapping_pool_gradients()
    context = pool_context(rng.randn(1, 1, 3, 4), stride=1, dout=dout)
    assert tags(explain(actual, expected, "dx", context, TOL)) == {"accumulate"}


def test_a_wrong_value_at_a_shared_maximum_that_is_no_window_gradient_gets_no_accumulate_hint():
    dout, expected, _ = overlapping_pool_gradients()
    actual = expected.copy()
    actual[0, 0, 1, 1] = 1.5 * expected[0, 0, 1, 1] + 0.3
    context = pool_context(rng.randn(1, 1, 3, 4), stride=1, dout=dout)
    assert "accumulate" not in tags(explain(actual, expected, "dx", context, TOL))


# ---- shapes: the empty crop, padding of every axis, wording by what the array is ----------------

def test_an_empty_crop_when_pad_is_zero_points_at_padding():
    context = conv_context(x_shape=(2, 3, 5, 5), pad=0)
    hints = explain(np.zeros((2, 3, 0, 0)), rng.randn(2, 3, 5, 5), "dx", context, TOL)
    assert tags(hints) == {"padding"} and "pad:-pad" in hints[0]
    assert "pad:-pad" not in " ".join(explain(np.zeros((2, 3, 0, 0)), rng.randn(2, 3, 5, 5), "dx",
                                              conv_context(x_shape=(2, 3, 5, 5), pad=1), TOL))


def test_a_dx_padded_along_every_axis_points_at_padding():
    context = conv_context(x_shape=(2, 3, 5, 5), pad=1)
    hints = explain(rng.randn(4, 5, 7, 7), rng.randn(2, 3, 5, 5), "dx", context, TOL)
    assert tags(hints) == {"padding"} and "np.pad(x, pad)" in hints[0]


def test_a_running_average_with_a_kept_axis_gets_a_hint_worded_for_a_running_average():
    mean = rng.randn(3)
    context = Context(area="spatial_batchnorm")
    hints = explain(mean.reshape(1, 3), mean, "bn_param['running_mean']", context, TOL)
    assert tags(hints) == {"output_shape"} and "running average" in hints[0] and "gradient" not in hints[0]


def test_a_gradient_in_another_shape_gets_a_hint_worded_for_a_gradient():
    values = rng.randn(1, 6, 1, 1)
    context = Context(area="spatial_groupnorm", gradient_of={"dgamma": "gamma"})
    hints = explain(values.ravel(), values, "dgamma", context, TOL)
    assert tags(hints) == {"output_shape"} and "gradient of (gamma)" in hints[0]


@pytest.mark.parametrize("what, kind, label", [
    ("out", "conv", "(n, f, h, w) = (0, 1, 2, 3)"),
    ("dw", "conv", "(f, c, hh, ww) = (0, 1, 2, 3)"),
    ("out", "pool", "(n, c, h, w) = (0, 1, 2, 3)"),
    ("dgamma", "spatial_groupnorm", "(1, c, 1, 1) = (0, 1, 2, 3)"),
    ("dx", "", "(n, c, h, w) = (0, 1, 2, 3)"),   # an input's gradient: the same in every area
    ("out", "", "index (0, 1, 2, 3)"),           # a conv output or not: unknown, so not named
])
def test_the_worst_index_names_the_axes_of_the_array_it_is_in(what, kind, label):
    assert index_label((0, 1, 2, 3), what, kind) == label


# ---- exceptions and return values ------------------------------------------------------------

@pytest.mark.parametrize("type_name, message, tag", [
    ("AttributeError", "module 'numpy' has no attribute 'float'.\n`np.float` was a deprecated alias", "numpy_alias"),
    ("AttributeError", "`np.NaN` was removed in the NumPy 2.0 release. Use `np.nan` instead.", "numpy_alias"),
    ("ValueError", "could not broadcast input array from shape (2,4,3,3) into shape (2,4,0,0)", "padding"),
    ("ValueError", "operands could not be broadcast together with shapes (3,3,3) (3,3,2) (3,3,3)", "padding"),
    ("ValueError", "non-broadcastable output operand with shape (3,2,1) doesn't match the broadcast "
                   "shape (3,2,3)", "output_shape"),
    ("ValueError", "operands could not be broadcast together with shapes (2,) (2,3,3)", "axes"),
    ("ValueError", "zero-size array to reduction operation maximum which has no identity", "stride"),
    ("ValueError", "shapes (2,147) and (192,7) not aligned: 147 (dim 1) != 192 (dim 0)", "padding"),
    ("TypeError", "cannot unpack non-iterable NoneType object", "return"),
    ("IndexError", "index 8 is out of bounds for axis 3 with size 8", "axes"),
    ("ValueError", "operands could not be broadcast together with shapes (5,3,3) (3,3,3)", "padding"),
    ("TypeError", "only 0-dimensional arrays can be converted to Python scalars", "scalar"),   # NumPy 2
    ("TypeError", "only length-1 arrays can be converted to Python scalars", "scalar"),        # NumPy 1
])
def test_exceptions_are_explained(type_name, message, tag):
    assert messages.marker(tag) in explain_exception(type_name, message)


@pytest.mark.parametrize("type_name, message", [
    ("AttributeError", "module 'numpy' has no attribute 'conv2d'"),
    ("AttributeError", "'NoneType' object has no attribute 'shape'"),
    ("ValueError", "operands could not be broadcast together with shapes (4,5) (3,7)"),
    ("IndexError", "index 5 is out of bounds for axis 0 with size 5"),
    ("KeyError", "'stride'"),
    ("ValueError", "operands could not be broadcast together with shapes (4,3,3) (3,3,3)"),  # odd: not 2·pad
    ("TypeError", "only integer scalar arrays can be converted to a scalar index"),
])
def test_other_exceptions_get_no_hint(type_name, message):
    assert explain_exception(type_name, message) is None


def test_an_exception_in_a_traceback_text_is_explained():
    text = "layers.py, line 12, in conv_forward_naive\n  AttributeError: module 'numpy' has no attribute 'int'."
    assert messages.marker("numpy_alias") in explain_exception_text(text)


def test_values_returned_in_another_order_are_recognised():
    assert messages.marker("return") in explain_order([(2, 3), (4,), (4, 3, 3, 3)], [(2, 3), (4, 3, 3, 3), (4,)],
                                                      "(dx, dw, db)")
    assert explain_order([(2, 3), (5,)], [(2, 3), (4,)], "(dx, db)") is None


def test_a_cache_returned_before_the_output_is_recognised():
    # A cache is no array (None here); the output's slot wants an array of its shape.
    found = explain_order([None, (2, 4, 5, 5)], [(2, 4, 5, 5), None], "(out, cache)")
    assert messages.marker("return") in found and "(cache, out)" in found
    assert explain_order([(2, 4, 5, 5), None], [(2, 4, 5, 5), None], "(out, cache)") is None
    assert explain_order([None, (2, 4, 4, 4)], [(2, 4, 5, 5), None], "(out, cache)") is None  # a wrong shape


# ---- the message table ----------------------------------------------------------------------------

def test_every_hint_tag_has_a_message_and_every_hint_key_a_known_tag():
    keys = [key for key in messages.EN if "." in key]
    assert {key.split(".")[0] for key in keys} == set(messages.HINT_TAGS)
