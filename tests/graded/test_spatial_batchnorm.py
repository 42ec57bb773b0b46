"""Spatial batch normalization (seed rows 14-16).

Statistics are per channel over (N, H, W), the variance is the biased one, and
in train mode the running averages are written back into ``bn_param``.
"""

import numpy as np
import pytest

from convgrader.judging.compare import (STATISTIC_TOLERANCE, assert_all_close, assert_close, assert_unchanged, assert_within,
                                cache_from, fail, unpack)
from convgrader.judging.diagnostics import Context
from convgrader.judging.fixtures import over_cases, training_batches
from convgrader.messages import say


def bn_param_of(case):
    """The case's bn_param, with its starting running averages when it has them."""
    bn_param = case.param("bn_param")
    for key in ("running_mean", "running_var"):
        if key in case:
            bn_param[key] = case[key]
    return bn_param


@pytest.mark.grades("spatial_batchnorm_forward")
@over_cases("spatial_batchnorm")
def test_spatial_batchnorm_forward(impl, case):
    x, gamma, beta = case["x"], case["gamma"], case["beta"]
    bn_param = bn_param_of(case)
    context = Context.of(case, bn_param=bn_param_of(case))
    out, _ = unpack(impl.spatial_batchnorm_forward(x, gamma, beta, bn_param), 2, "(out, cache)",
                    like=(case["out"], None), context=context)
    assert_unchanged(x, case["x"], "x")
    assert_close(out, case["out"], "out", precision=x.dtype, context=context)


@pytest.mark.grades("spatial_batchnorm_forward")
@over_cases("spatial_batchnorm", having=("running_mean_after",))
def test_spatial_batchnorm_forward_updates_running_averages(impl, case):
    bn_param = bn_param_of(case)
    unpack(impl.spatial_batchnorm_forward(case["x"], case["gamma"], case["beta"], bn_param), 2, "(out, cache)",
           like=(case["out"], None), context=Context.of(case, bn_param=bn_param_of(case)))
    for key in ("running_mean", "running_var"):
        if key not in bn_param:
            fail(say("bn_param_missing", name=repr(key)))
        assert_close(bn_param[key], case[f"{key}_after"], f"bn_param[{key!r}]", precision=case["x"].dtype,
                     context=Context.of(case))


@pytest.mark.grades("spatial_batchnorm_forward")
@pytest.mark.parametrize("case_name", ["seed_unit_gamma", "seed_gamma_beta"])
def test_spatial_batchnorm_forward_normalizes_each_channel(impl, case_name):
    """Row 14: per-channel means equal beta and standard deviations equal gamma."""
    from convgrader.judging.fixtures import load

    check_normalizes_each_channel(impl, load("spatial_batchnorm", case_name))


def check_normalizes_each_channel(impl, case):
    """Row 14's check on ``case``: per-channel means of out equal beta, standard deviations gamma."""
    gamma, beta = case["gamma"], case["beta"]
    out, _ = unpack(impl.spatial_batchnorm_forward(case["x"], gamma, beta, {"mode": "train"}), 2, "(out, cache)",
                    like=(case["x"].shape, None))
    out = np.asarray(out, dtype=np.float64)
    assert_within(out.mean(axis=(0, 2, 3)), beta, STATISTIC_TOLERANCE, say("what_channel_mean"))
    assert_within(out.std(axis=(0, 2, 3)), gamma, STATISTIC_TOLERANCE, say("what_channel_std"))


@pytest.mark.grades("spatial_batchnorm_forward")
def test_spatial_batchnorm_forward_test_mode_after_training(impl):
    """Row 15: after 50 train passes, test mode normalizes a fresh batch to mean 0, std 1."""
    check_test_mode_after_training(impl, seed=231)


def check_test_mode_after_training(impl, seed):
    """Row 15's check on the batches ``seed`` draws."""
    *train, fresh = training_batches(seed=seed, count=51, shape=(10, 4, 11, 12), scale=2.3, shift=13)
    gamma, beta = np.ones(4), np.zeros(4)
    bn_param = {"mode": "train"}
    for x in train:
        unpack(impl.spatial_batchnorm_forward(x, gamma, beta, bn_param), 2, "(out, cache)", like=(x.shape, None))
    bn_param["mode"] = "test"
    out, _ = unpack(impl.spatial_batchnorm_forward(fresh, gamma, beta, bn_param), 2, "(out, cache)",
                    like=(fresh.shape, None))
    out = np.asarray(out, dtype=np.float64)
    # Running averages of 50 batches of 1320 values each: the means land within a
    # few hundredths of 0, the stds within a few hundredths of 1.
    means, stds = out.mean(axis=(0, 2, 3)), out.std(axis=(0, 2, 3))
    if np.max(np.abs(means)) > 0.1 or np.max(np.abs(stds - 1)) > 0.1:
        fail(say("test_mode_statistics", means=np.round(means, 3), stds=np.round(stds, 3)))


@pytest.mark.grades("spatial_batchnorm_backward")
@over_cases("spatial_batchnorm", having=("dout",))
def test_spatial_batchnorm_backward(impl, case):
    x, dout = case["x"], case["dout"]
    cache = cache_from(impl.spatial_batchnorm_forward, x, case["gamma"], case["beta"], bn_param_of(case))
    context = Context.of(case, impl.spatial_batchnorm_forward, impl.spatial_batchnorm_backward,
                         bn_param=bn_param_of(case))
    grads = unpack(impl.spatial_batchnorm_backward(dout, cache), 3, "(dx, dgamma, dbeta)",
                   like=(case["dx"], case["dgamma"], case["dbeta"]), context=context)
    assert_all_close(grads, case, ("dx", "dgamma", "dbeta"), precision=x.dtype, context=context)
