"""Property tests: every graded layer on cases drawn across its whole contract.

The cases come from the strategies of ``tests/graded/contract.py`` (shapes,
strides, pads, windows that fit, ties, dtypes, eps, momentum, modes, groups),
the same examples on every run. The expected values come from what you
already have, never from a hidden answer:

============================  ==================================================
function                      oracle
============================  ==================================================
conv_forward_naive            the provided ``conv_forward_fast``
max_pool_forward_naive        the provided ``max_pool_forward_fast``
spatial_batchnorm_forward     the provided vanilla ``batchnorm_forward``, on
                              the pixels as rows
spatial_groupnorm_forward     each group's own mean and biased variance
every backward                centered finite differences of that oracle (for
                              max pooling with tied maxima, where the gradient
                              is not unique, the provided fast backward's
                              routing, compared by the tie rule)
============================  ==================================================

When a function fails, Hypothesis shrinks the input to the smallest one that
still fails, and the message starts with it.
"""

import numpy as np
import pytest

from convgrader.judging.compare import (assert_all_close, assert_close, assert_pool_gradient_close, cache_from,
                                        unpack)
from convgrader.judging.diagnostics import Context
from reference.fast_layers import conv_forward_fast, max_pool_backward_fast, max_pool_forward_fast
from reference.gradient_check import eval_numerical_gradient_array
from reference.layers import batchnorm_forward
from tests.graded.contract import (VISIBLE, batchnorm_cases, conv_cases, groupnorm_cases, in_float64, pool_cases,
                                   property_test)


def numerical_gradients(forward, inputs, dout):
    """Finite-difference gradients of ``sum(dout * forward(**inputs))`` for every input, by name."""
    def along(name):
        return lambda value: forward(**{**inputs, name: value})
    return {f"d{name}": eval_numerical_gradient_array(along(name), value.copy(), dout)
            for name, value in inputs.items()}


#: Step of the centered differences.
STEP = 1e-5


def swept(array):
    """``2 * array.size`` copies of ``array``: each element moved by +STEP, then each by -STEP."""
    steps = STEP * np.eye(array.size).reshape(array.size, *array.shape)
    return np.concatenate([array + steps, array - steps])


def centered(f_swept, dout, shape):
    """The centered differences of ``sum(dout * f)`` from the outputs of :func:`swept` inputs.

    ``f_swept`` has shape (2 * k, *dout.shape): the outputs for the k moves up, then the k moves down.
    """
    k = f_swept.shape[0] // 2
    change = np.tensordot(f_swept[:k] - f_swept[k:], dout, axes=dout.ndim)
    return (change / (2 * STEP)).reshape(shape)


def conv_numerical_gradients(x, w, b, conv_param, dout):
    """Centered differences of the provided conv_forward_fast, each input moved one element at a time.

    The moved copies travel in one call per sample (for x: a sample's output depends on that sample
    only) or as one bank of filters (for w and b: filter f's output depends on filter f only), so the
    thousands of moves take a few calls of the fast layer.
    """
    def through(images, filters, biases):
        return conv_forward_fast(images, filters, biases, conv_param)[0]

    dx = np.stack([centered(through(swept(sample), w, b)[:, None], dout[n:n + 1], sample.shape)
                   for n, sample in enumerate(x)])
    n_filters = w.shape[0]
    moved_w = swept(w)  # (2 * w.size, F, C, HH, WW): every moved bank of all F filters
    out = through(x, moved_w.reshape(-1, *w.shape[1:]), np.tile(b, len(moved_w)))
    dw = centered(np.moveaxis(out.reshape(len(x), len(moved_w), n_filters, *out.shape[2:]), 1, 0), dout, w.shape)
    moved_b = swept(b)
    out = through(x, np.tile(w, (len(moved_b), 1, 1, 1)), moved_b.ravel())
    db = centered(np.moveaxis(out.reshape(len(x), len(moved_b), n_filters, *out.shape[2:]), 1, 0), dout, b.shape)
    return dict(dx=dx, dw=dw, db=db)


def pool_numerical_gradient(x, pool_param, dout):
    """Centered differences of the provided max_pool_forward_fast; every (sample, channel) plane on its own."""
    planes = x.reshape(-1, 1, *x.shape[2:])
    upstream = dout.reshape(-1, 1, *dout.shape[2:])
    moved = np.concatenate([swept(plane) for plane in planes])  # (planes * 2 * H * W, 1, H, W)
    out = max_pool_forward_fast(moved, pool_param)[0].reshape(len(planes), -1, 1, *dout.shape[2:])
    return np.stack([centered(out[i], upstream[i], plane.shape) for i, plane in enumerate(planes)]).reshape(x.shape)


# -- oracles ----------------------------------------------------------------------------------

def conv_oracle(case):
    conv_param = case.param("conv_param")
    return lambda x, w, b: conv_forward_fast(x, w, b, conv_param)[0]


def spatial_batchnorm_oracle(case):
    """The provided batchnorm_forward on the pixels as rows (N * H * W, C); bn_param is updated in place."""
    def forward(x, gamma, beta, bn_param=None):
        bn_param = case.param("bn_param") if bn_param is None else bn_param
        for name in ("running_mean", "running_var"):
            if name in case and name not in bn_param:
                bn_param[name] = case[name].astype(np.float64)
        channels = x.shape[1]
        rows = np.moveaxis(x, 1, -1).reshape(-1, channels)
        normalized, _ = batchnorm_forward(rows, gamma, beta, bn_param)
        return np.moveaxis(normalized.reshape(*np.moveaxis(x, 1, -1).shape), -1, 1)
    return forward


def spatial_groupnorm_oracle(case):
    """Each sample's group of C // G channels normalized by its own mean and biased variance."""
    groups, eps = case.param("G"), case.param("gn_param").get("eps", 1e-5)

    def forward(x, gamma, beta):
        per_group = x.reshape(x.shape[0], groups, -1)
        mean, variance = per_group.mean(axis=2, keepdims=True), per_group.var(axis=2, keepdims=True)
        return gamma * ((per_group - mean) / np.sqrt(variance + eps)).reshape(x.shape) + beta
    return forward


# -- convolution ------------------------------------------------------------------------------

@pytest.mark.grades("conv_forward_naive")
@property_test(conv_cases(), VISIBLE, shown=("x", "w", "b"))
def test_conv_forward_naive_property(impl, case):
    expected = conv_oracle(case)(*in_float64(case, "x", "w", "b"))
    out, _ = unpack(impl.conv_forward_naive(case["x"], case["w"], case["b"], case.param("conv_param")),
                    2, "(out, cache)", like=(expected, None), context=Context.of(case))
    assert_close(out, expected, "out", precision=case["x"].dtype, context=Context.of(case))


@pytest.mark.grades("conv_backward_naive")
@property_test(conv_cases(), VISIBLE, shown=("x", "w", "dout"))
def test_conv_backward_naive_property(impl, case):
    x, w, b, dout = in_float64(case, "x", "w", "b", "dout")
    expected = conv_numerical_gradients(x, w, b, case.param("conv_param"), dout)
    cache = cache_from(impl.conv_forward_naive, case["x"], case["w"], case["b"], case.param("conv_param"))
    context = Context.of(case, impl.conv_forward_naive, impl.conv_backward_naive)
    grads = unpack(impl.conv_backward_naive(case["dout"], cache), 3, "(dx, dw, db)",
                   like=(expected["dx"], expected["dw"], expected["db"]), context=context)
    assert_all_close(grads, expected, ("dx", "dw", "db"), precision=case["x"].dtype, context=context)


# -- max pooling ------------------------------------------------------------------------------

@pytest.mark.grades("max_pool_forward_naive")
@property_test(pool_cases(), VISIBLE)
def test_max_pool_forward_naive_property(impl, case):
    expected, _ = max_pool_forward_fast(*in_float64(case, "x"), case.param("pool_param"))
    out, _ = unpack(impl.max_pool_forward_naive(case["x"], case.param("pool_param")), 2, "(out, cache)",
                    like=(expected, None), context=Context.of(case))
    assert_close(out, expected, "out", precision=case["x"].dtype, context=Context.of(case))


@pytest.mark.grades("max_pool_backward_naive")
@property_test(pool_cases(), VISIBLE, shown=("x", "dout"))
def test_max_pool_backward_naive_property(impl, case):
    x, dout = in_float64(case, "x", "dout")
    pool_param = case.param("pool_param")
    _, fast_cache = max_pool_forward_fast(x, pool_param)
    if len(np.unique(x)) == x.size:  # no ties: the gradient is unique, and finite differences find it
        expected = pool_numerical_gradient(x, pool_param, dout)
    else:
        expected = max_pool_backward_fast(dout, fast_cache)
    cache = cache_from(impl.max_pool_forward_naive, case["x"], pool_param)
    dx = impl.max_pool_backward_naive(case["dout"], cache)
    context = Context.of(case, impl.max_pool_forward_naive, impl.max_pool_backward_naive)
    assert_pool_gradient_close(dx, expected, x, dout, pool_param, precision=case["x"].dtype, context=context)


# -- spatial batch normalization --------------------------------------------------------------

@pytest.mark.grades("spatial_batchnorm_forward")
@property_test(batchnorm_cases(), VISIBLE)
def test_spatial_batchnorm_forward_property(impl, case):
    expected_param = case.param("bn_param")
    expected = spatial_batchnorm_oracle(case)(*in_float64(case, "x", "gamma", "beta"), expected_param)
    bn_param = case.param("bn_param")
    bn_param.update({name: case[name] for name in ("running_mean", "running_var") if name in case})
    out, _ = unpack(impl.spatial_batchnorm_forward(case["x"], case["gamma"], case["beta"], bn_param),
                    2, "(out, cache)", like=(expected, None), context=Context.of(case))
    assert_close(out, expected, "out", precision=case["x"].dtype, context=Context.of(case))
    if bn_param["mode"] == "train":
        for name in ("running_mean", "running_var"):
            assert_close(bn_param.get(name), expected_param[name], f"bn_param[{name!r}]",
                         precision=case["x"].dtype, context=Context.of(case))


@pytest.mark.grades("spatial_batchnorm_backward")
@property_test(batchnorm_cases(modes=("train",)), VISIBLE, shown=("x", "dout"))
def test_spatial_batchnorm_backward_property(impl, case):
    x, gamma, beta, dout = in_float64(case, "x", "gamma", "beta", "dout")
    expected = numerical_gradients(spatial_batchnorm_oracle(case), dict(x=x, gamma=gamma, beta=beta), dout)
    bn_param = case.param("bn_param")
    bn_param.update({name: case[name] for name in ("running_mean", "running_var") if name in case})
    cache = cache_from(impl.spatial_batchnorm_forward, case["x"], case["gamma"], case["beta"], bn_param)
    context = Context.of(case, impl.spatial_batchnorm_forward, impl.spatial_batchnorm_backward)
    grads = unpack(impl.spatial_batchnorm_backward(case["dout"], cache), 3, "(dx, dgamma, dbeta)",
                   like=(expected["dx"], expected["dgamma"], expected["dbeta"]), context=context)
    assert_all_close(grads, expected, ("dx", "dgamma", "dbeta"), precision=case["x"].dtype, context=context)


# -- spatial group normalization (optional part) ----------------------------------------------

@pytest.mark.grades("spatial_groupnorm_forward")
@property_test(groupnorm_cases(), VISIBLE)
def test_spatial_groupnorm_forward_property(impl, case):
    expected = spatial_groupnorm_oracle(case)(*in_float64(case, "x", "gamma", "beta"))
    out, _ = unpack(impl.spatial_groupnorm_forward(case["x"], case["gamma"], case["beta"], case.param("G"),
                                                   case.param("gn_param")), 2, "(out, cache)",
                    like=(expected, None), context=Context.of(case))
    assert_close(out, expected, "out", precision=case["x"].dtype, context=Context.of(case))


@pytest.mark.grades("spatial_groupnorm_backward")
@property_test(groupnorm_cases(), VISIBLE, shown=("x", "dout"))
def test_spatial_groupnorm_backward_property(impl, case):
    x, gamma, beta, dout = in_float64(case, "x", "gamma", "beta", "dout")
    expected = numerical_gradients(spatial_groupnorm_oracle(case), dict(x=x, gamma=gamma, beta=beta), dout)
    cache = cache_from(impl.spatial_groupnorm_forward, case["x"], case["gamma"], case["beta"], case.param("G"),
                       case.param("gn_param"))
    context = Context.of(case, impl.spatial_groupnorm_forward, impl.spatial_groupnorm_backward)
    grads = unpack(impl.spatial_groupnorm_backward(case["dout"], cache), 3, "(dx, dgamma, dbeta)",
                   like=(expected["dx"], expected["dgamma"], expected["dbeta"]), context=context)
    assert_all_close(grads, expected, ("dx", "dgamma", "dbeta"), precision=case["x"].dtype, context=context)
