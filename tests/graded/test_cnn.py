"""ThreeLayerConvNet (seed rows 9-12): initialization, scores, loss and gradients, training.

Loss and gradients are judged at fixed parameters against frozen answer-key
values, so random initialization plays no part in them.
"""

import math

import numpy as np
import pytest

from convgrader.judging.compare import (assert_close, assert_dtype, assert_shape, assert_within, fail, scaled_error,
                                unpack)
from convgrader.judging.diagnostics import Context
from convgrader.judging.fixtures import load, over_cases
from convgrader.messages import say

PARAM_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")


def build(impl, case):
    """The implementation's model with the case's constructor arguments and fixed parameters."""
    kwargs = case.param("model_kwargs")
    dtype = np.dtype(kwargs["dtype"])
    model = impl.ThreeLayerConvNet(**dict(kwargs, input_dim=tuple(kwargs["input_dim"]), dtype=dtype))
    for name in PARAM_NAMES:
        model.params[name] = case[name].astype(dtype)
    return model, dtype


def expected_shapes(input_dim, num_filters, filter_size, hidden_dim, num_classes):
    c, h, w = input_dim
    return dict(W1=(num_filters, c, filter_size, filter_size), b1=(num_filters,),
                W2=(num_filters * (h // 2) * (w // 2), hidden_dim), b2=(hidden_dim,),
                W3=(hidden_dim, num_classes), b3=(num_classes,))


INIT_CONFIGS = {
    "defaults": dict(),
    "gray_rectangular_float64": dict(input_dim=(1, 8, 12), num_filters=4, filter_size=5, hidden_dim=6,
                                     num_classes=3, dtype=np.float64),
    "small_float32": dict(input_dim=(3, 16, 16), num_filters=3, filter_size=3, hidden_dim=7,
                          dtype=np.float32),
}


@pytest.mark.grades("ThreeLayerConvNet")
@pytest.mark.parametrize("kwargs", INIT_CONFIGS.values(), ids=INIT_CONFIGS.keys())
def test_ThreeLayerConvNet_init_shapes_and_dtype(impl, kwargs):
    model = impl.ThreeLayerConvNet(**kwargs)
    defaults = dict(input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
                    num_classes=10, dtype=np.float32)
    config = {**defaults, **kwargs}
    dtype = config.pop("dtype")
    shapes = expected_shapes(**config)
    if sorted(model.params) != sorted(shapes):
        fail(say("params_keys", got=sorted(model.params), expected=sorted(shapes)))
    for name, shape in shapes.items():
        assert_shape(model.params[name], shape, f"params[{name!r}]")
        assert_dtype(model.params[name], dtype, say("what_dtype_argument", name=f"params[{name!r}]"))


@pytest.mark.grades("ThreeLayerConvNet")
def test_ThreeLayerConvNet_init_statistics(impl):
    """Weights ~ N(0, weight_scale^2), biases zero."""
    check_init_statistics(impl, seed=0, weight_scale=1e-2)


def check_init_statistics(impl, seed, weight_scale):
    """The default model built after ``np.random.seed(seed)`` has weights ~ N(0, weight_scale^2), zero biases."""
    np.random.seed(seed)
    model = impl.ThreeLayerConvNet(weight_scale=weight_scale, dtype=np.float64)
    for name in ("W1", "W2", "W3"):
        weights = np.asarray(model.params[name], dtype=np.float64)
        # With 1000+ draws the sample std is within 10% and the mean within
        # 5 standard errors of 0, except with negligible probability.
        assert_within(weights.std(), weight_scale, 0.1 * weight_scale, say("what_std_of", name=f"params[{name!r}]"))
        if abs(weights.mean()) > 5 * weight_scale / math.sqrt(weights.size):
            fail(say("params_mean", what=f"params[{name!r}]", mean=float(weights.mean())))
    for name in ("b1", "b2", "b3"):
        assert_within(model.params[name], 0.0, 0.0, say("what_bias_at_zero", name=f"params[{name!r}]"))


@pytest.fixture(scope="module")
def random_batch():
    rng = np.random.RandomState(231)
    return rng.randn(50, 3, 32, 32), rng.randint(10, size=50)


@pytest.mark.grades("ThreeLayerConvNet")
def test_ThreeLayerConvNet_initial_loss_is_log_num_classes(impl, random_batch):
    """Row 9: with tiny random weights every class is equally likely: loss = log(10)."""
    check_initial_loss(impl, *random_batch)


def check_initial_loss(impl, X, y, num_classes=10):
    """A fresh model with ``num_classes`` classes (default weight scale) has loss log(num_classes) on X, y."""
    np.random.seed(231)
    model = impl.ThreeLayerConvNet() if num_classes == 10 else impl.ThreeLayerConvNet(num_classes=num_classes)
    loss, _ = unpack(model.loss(X, y), 2, "(loss, grads)")
    # Scores of order 1e-6 move the loss from log(C) by far less than 1e-3.
    assert_within(loss, math.log(num_classes), 1e-3, say("what_initial_loss"))


@pytest.mark.grades("ThreeLayerConvNet")
def test_ThreeLayerConvNet_regularization_adds_half_reg_sum_of_squares(impl, random_batch):
    """Row 9 with reg = 0.5: the loss grows by exactly 0.5 * reg * sum(W^2)."""
    check_regularization(impl, *random_batch)


def check_regularization(impl, X, y, weights=None):
    """loss(reg=0.5) - loss(reg=0) = 0.5 * 0.5 * sum(W^2) for the default model, its weights set to
    ``weights`` (name -> array) when given."""
    np.random.seed(231)
    model = impl.ThreeLayerConvNet()
    for name, value in (weights or {}).items():
        model.params[name] = value
    loss, _ = unpack(model.loss(X, y), 2, "(loss, grads)")
    model.reg = 0.5
    loss_reg, _ = unpack(model.loss(X, y), 2, "(loss, grads)")
    penalty = 0.5 * 0.5 * sum(np.sum(np.asarray(model.params[w], dtype=np.float64) ** 2)
                              for w in ("W1", "W2", "W3"))
    assert_close(np.float64(loss_reg - loss), np.float64(penalty), "loss(reg=0.5) - loss(reg=0)",
                 precision=np.float32)


@pytest.mark.grades("ThreeLayerConvNet")
@over_cases("model")
def test_ThreeLayerConvNet_scores(impl, case):
    model, dtype = build(impl, case)
    scores = model.loss(case["X"].astype(dtype))
    assert_close(scores, case["scores"], say("what_scores"), precision=dtype)


@pytest.mark.grades("ThreeLayerConvNet", weight=2)
@over_cases("model")
def test_ThreeLayerConvNet_loss_and_gradients(impl, case):
    model, dtype = build(impl, case)
    loss, grads = unpack(model.loss(case["X"].astype(dtype), case["y"]), 2, "(loss, grads)")
    context = Context(sizes={"N": len(case["X"])})
    assert_close(np.asarray(loss, dtype=np.float64), case["loss"], "loss", precision=dtype, context=context)
    if not isinstance(grads, dict) or sorted(grads) != sorted(PARAM_NAMES):
        fail(say("grads_keys", expected=sorted(PARAM_NAMES),
                 got=sorted(grads) if isinstance(grads, dict) else type(grads).__name__))
    for name in PARAM_NAMES:
        assert_close(grads[name], case[f"d{name}"], f"grads[{name!r}]", precision=dtype, context=context)
        assert_dtype(grads[name], dtype, say("what_model_dtype", name=f"grads[{name!r}]"))


@pytest.mark.grades("ThreeLayerConvNet")
def test_ThreeLayerConvNet_numerical_gradient_check(impl):
    """Row 10: the model's gradients agree with finite differences of its own loss.

    Centered differences (h = 1e-6) at up to 20 coordinates of each parameter,
    drawn at random: enough to catch any wrong gradient, at a twentieth of the
    cost of all 1,400 coordinates.
    """
    check_gradients_against_own_loss(impl, load("model", "seed_small"))  # the notebook's network


def check_gradients_against_own_loss(impl, case):
    """Row 10's check at the case's fixed parameters; returns the model's gradients (name -> array)."""
    model, _ = build(impl, case)
    X, y = case["X"], case["y"]
    rng = np.random.RandomState(231)
    _, grads = unpack(model.loss(X, y), 2, "(loss, grads)")
    for name in PARAM_NAMES:
        size = np.asarray(model.params[name]).size
        coords = rng.choice(size, size=min(20, size), replace=False)
        analytic = np.asarray(grads[name]).ravel()[coords]
        numeric = np.array([centered_difference(lambda: model.loss(X, y)[0], model.params, name, c, 1e-6)
                            for c in coords])
        # Elementwise relative errors reach 3e-2 through ReLU and max kinks
        # (SPEC); scaled by the gradient's size they stay far below 1e-2.
        error = scaled_error(analytic, numeric)
        if error > 1e-2:
            fail(say("grads_numeric", what=f"grads[{name!r}]", error=error))
    return grads


def centered_difference(loss, params, name, flat_index, h):
    """(loss(p + h) - loss(p - h)) / 2h at one coordinate of ``params[name]``, restored afterwards.

    The parameter is assigned whole each time rather than changed in place, so
    this works as well when the model lives in the grading sandbox.
    """
    value = np.array(params[name])
    index = np.unravel_index(flat_index, value.shape)
    original = value[index]
    results = []
    for shifted in (original + h, original - h):
        value[index] = shifted
        params[name] = value
        results.append(loss())
    value[index] = original
    params[name] = value
    return (results[0] - results[1]) / (2 * h)
