"""Hidden: ThreeLayerConvNet scores, loss and gradients at random fixed parameters.

Random input sizes (even H and W, so the 2x2 pooling divides them), filter
sizes, widths, class counts and regularization strengths; the parameters are
set after construction, so random initialization plays no part.
"""

import numpy as np
import pytest

from answer_key.classifiers.cnn import ThreeLayerConvNet as KeyConvNet
from convgrader.judging.compare import assert_close, fail, unpack
from convgrader.messages import say
from tests.graded.contract import HIDDEN, model_cases, property_test

PARAM_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")


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


@pytest.mark.grades("ThreeLayerConvNet", weight=4)
@property_test(model_cases(), HIDDEN, shown=())
def test_hidden_ThreeLayerConvNet_scores(impl, case):
    dtype = np.dtype(case.param("dtype"))
    expected, _, _ = expected_model(case)
    scores = build(impl.ThreeLayerConvNet, case, dtype).loss(case["X"])
    assert_close(scores, expected, say("what_scores"), precision=dtype)


@pytest.mark.grades("ThreeLayerConvNet", weight=4)
@property_test(model_cases(), HIDDEN, shown=())
def test_hidden_ThreeLayerConvNet_loss_and_gradients(impl, case):
    dtype = np.dtype(case.param("dtype"))
    _, expected_loss, expected_grads = expected_model(case)
    model = build(impl.ThreeLayerConvNet, case, dtype)
    loss, grads = unpack(model.loss(case["X"], case["y"]), 2, "(loss, grads)")
    assert_close(np.asarray(loss, dtype=np.float64), np.float64(expected_loss), "loss", precision=dtype)
    if not isinstance(grads, dict) or sorted(grads) != sorted(PARAM_NAMES):
        fail(say("grads_keys", expected=sorted(PARAM_NAMES),
                 got=sorted(grads) if isinstance(grads, dict) else type(grads).__name__))
    for name in PARAM_NAMES:
        assert_close(grads[name], expected_grads[name], f"grads[{name!r}]", precision=dtype)
        if np.asarray(grads[name]).dtype != dtype:
            fail(say("dtype", what=say("what_model_dtype", name=f"grads[{name!r}]"),
                     actual=np.asarray(grads[name]).dtype, expected=np.dtype(dtype)))
