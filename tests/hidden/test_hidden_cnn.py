"""Hidden: ThreeLayerConvNet scores, loss and gradients at random fixed parameters.

Random input sizes (even H and W, so the 2x2 pooling divides them), filter
sizes, widths, class counts and regularization strengths; the parameters are
set after construction, so random initialization plays no part.
"""

import numpy as np
import pytest

from convgrader.judging.compare import assert_close, fail, unpack
from answer_key.classifiers.cnn import ThreeLayerConvNet as KeyConvNet
from tests.hidden.cases import dims, dtype_of, make_case, random_cases

PARAM_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")
REG_CHOICES = (0.0, 0.05, 0.3, 1.0)


def draw_model(rng, index):
    dtype = dtype_of(index)
    batch, channels = int(rng.integers(1, 5)), int(rng.integers(1, 4))
    height, width = (2 * int(v) for v in rng.integers(1, 5, size=2))
    filters, filter_size = int(rng.integers(1, 5)), int(rng.choice([1, 3, 5]))
    hidden, classes = int(rng.integers(2, 9)), int(rng.integers(2, 7))
    reg = float(REG_CHOICES[rng.integers(len(REG_CHOICES))])
    weight_scale = rng.uniform(0.05, 0.5)
    shapes = dict(W1=(filters, channels, filter_size, filter_size), b1=(filters,),
                  W2=(filters * (height // 2) * (width // 2), hidden), b2=(hidden,),
                  W3=(hidden, classes), b3=(classes,))
    arrays = {name: weight_scale * rng.standard_normal(shape) for name, shape in shapes.items()}
    arrays["X"] = rng.standard_normal((batch, channels, height, width))
    arrays["y"] = rng.integers(classes, size=batch)
    kwargs = dict(input_dim=(channels, height, width), num_filters=filters, filter_size=filter_size,
                  hidden_dim=hidden, num_classes=classes, reg=reg)
    name = (f"case{index}-{dtype.name}-X{dims(arrays['X'].shape)}-filters{filters}x{filter_size}x{filter_size}"
            f"-hidden{hidden}-classes{classes}-reg{reg:g}")
    return make_case("model", name, arrays, {"model_kwargs": kwargs, "dtype": dtype.name}, dtype)


def build(model_class, case, dtype):
    """A model of ``model_class`` with the case's architecture and parameters, in ``dtype``."""
    model = model_class(**case.param("model_kwargs"), dtype=dtype)
    for name in PARAM_NAMES:
        model.params[name] = case[name].astype(dtype)
    return model


def expected_model(case):
    """The answer key's scores, loss and gradients, in float64."""
    model = build(KeyConvNet, case, np.float64)
    X = case["X"].astype(np.float64)
    return model.loss(X), *model.loss(X, case["y"])


@pytest.mark.grades("ThreeLayerConvNet")
@random_cases(draw_model, count=4)
def test_hidden_ThreeLayerConvNet_scores(impl, case):
    dtype = np.dtype(case.param("dtype"))
    expected, _, _ = expected_model(case)
    scores = build(impl.ThreeLayerConvNet, case, dtype).loss(case["X"])
    assert_close(scores, expected, "scores (loss called without y)", precision=dtype)


@pytest.mark.grades("ThreeLayerConvNet")
@random_cases(draw_model, count=4)
def test_hidden_ThreeLayerConvNet_loss_and_gradients(impl, case):
    dtype = np.dtype(case.param("dtype"))
    _, expected_loss, expected_grads = expected_model(case)
    model = build(impl.ThreeLayerConvNet, case, dtype)
    loss, grads = unpack(model.loss(case["X"], case["y"]), 2, "(loss, grads)")
    assert_close(np.asarray(loss, dtype=np.float64), np.float64(expected_loss), "loss", precision=dtype)
    if not isinstance(grads, dict) or sorted(grads) != sorted(PARAM_NAMES):
        fail(f"grads must be a dict keyed like params {sorted(PARAM_NAMES)}; got "
             f"{sorted(grads) if isinstance(grads, dict) else type(grads).__name__}")
    for name in PARAM_NAMES:
        assert_close(grads[name], expected_grads[name], f"grads[{name!r}]", precision=dtype)
        if np.asarray(grads[name]).dtype != dtype:
            fail(f"grads[{name!r}] has dtype {np.asarray(grads[name]).dtype}, expected {dtype} (the model's dtype)")
