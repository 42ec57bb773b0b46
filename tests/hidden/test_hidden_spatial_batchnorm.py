"""Hidden: spatial batch normalization against the answer key, across the contract.

Train and test mode, eps and momentum, running averages given or defaulted,
data of scales 0.1 to 5 shifted up to 8 scales away (float32 keeps its usual
accuracy there). The test-mode test below always draws running variances of
0.1 to 5 times eps, where eps outside the square root is off by 4% or more, so
that bug fails for every seed.
"""

import numpy as np
import pytest

from answer_key import layers as key
from convgrader.judging.compare import assert_all_close, assert_close, cache_from, fail, unpack
from convgrader.judging.diagnostics import Context
from convgrader.messages import say
from tests.graded import test_properties as properties
from tests.graded.contract import HIDDEN, batchnorm_cases, property_test


def bn_param_of(case, in_float64_too=False):
    """A fresh bn_param with the case's running averages when it has them."""
    bn_param = case.param("bn_param")
    for name in ("running_mean", "running_var"):
        if name in case:
            bn_param[name] = case[name].astype(np.float64) if in_float64_too else case[name]
    return bn_param


def expected_batchnorm(case):
    """The answer key's out, {dx, dgamma, dbeta} (train mode only) and bn_param after, in float64."""
    bn_param = bn_param_of(case, in_float64_too=True)
    x, gamma, beta, dout = (case[name].astype(np.float64) for name in ("x", "gamma", "beta", "dout"))
    out, cache = key.spatial_batchnorm_forward(x, gamma, beta, bn_param)
    grads = None
    if bn_param["mode"] == "train":
        grads = dict(zip(("dx", "dgamma", "dbeta"), key.spatial_batchnorm_backward(dout, cache)))
    return out, grads, bn_param


def check_forward(impl, case):
    expected, _, _ = expected_batchnorm(case)
    out, _ = unpack(impl.spatial_batchnorm_forward(case["x"], case["gamma"], case["beta"], bn_param_of(case)),
                    2, "(out, cache)", like=(expected, None), context=Context.of(case))
    assert_close(out, expected, "out", precision=case["x"].dtype)


@pytest.mark.grades("spatial_batchnorm_forward", weight=5)
@pytest.mark.twin_of.with_args(properties.test_spatial_batchnorm_forward_property)  # it replays that test on fresh examples
@property_test(batchnorm_cases(), HIDDEN)
def test_hidden_spatial_batchnorm_forward(impl, case):
    check_forward(impl, case)


@pytest.mark.grades("spatial_batchnorm_forward", weight=1)
@property_test(batchnorm_cases(modes=("test",), running_var_below_eps=True), HIDDEN)
def test_hidden_spatial_batchnorm_forward_test_mode_small_running_var(impl, case):
    check_forward(impl, case)


@pytest.mark.grades("spatial_batchnorm_forward", weight=4)
@property_test(batchnorm_cases(modes=("train",)), HIDDEN)
def test_hidden_spatial_batchnorm_forward_updates_running_averages(impl, case):
    expected_out, _, expected = expected_batchnorm(case)
    bn_param = bn_param_of(case)
    unpack(impl.spatial_batchnorm_forward(case["x"], case["gamma"], case["beta"], bn_param), 2, "(out, cache)",
           like=(expected_out, None), context=Context.of(case))
    context = Context.of(case)
    for name in ("running_mean", "running_var"):
        if name not in bn_param:
            fail(say("bn_param_missing", name=repr(name)))
        assert_close(bn_param[name], expected[name], f"bn_param[{name!r}]", precision=case["x"].dtype, context=context)


@pytest.mark.grades("spatial_batchnorm_backward", weight=5)
@pytest.mark.twin_of.with_args(properties.test_spatial_batchnorm_backward_property)  # it replays that test on fresh examples
@property_test(batchnorm_cases(modes=("train",)), HIDDEN, shown=("x", "dout"))
def test_hidden_spatial_batchnorm_backward(impl, case):
    _, expected, _ = expected_batchnorm(case)
    cache = cache_from(impl.spatial_batchnorm_forward, case["x"], case["gamma"], case["beta"], bn_param_of(case))
    context = Context.of(case, impl.spatial_batchnorm_forward, impl.spatial_batchnorm_backward)
    grads = unpack(impl.spatial_batchnorm_backward(case["dout"], cache), 3, "(dx, dgamma, dbeta)",
                   like=(expected["dx"], expected["dgamma"], expected["dbeta"]), context=context)
    assert_all_close(grads, expected, ("dx", "dgamma", "dbeta"), precision=case["x"].dtype, context=context)
