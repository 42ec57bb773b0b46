"""Hidden: spatial batch normalization on random shapes, eps, momentum and modes.

Data are ``scale * randn + shift`` with the shift at most 8 scales away, so
float32 arithmetic keeps its usual accuracy; eps up to 1e-2 against variances
down to 1e-2 makes an eps in the wrong place visible.
"""

import numpy as np
import pytest

from convgrader.judging.compare import assert_close, cache_from, fail, unpack
from answer_key import layers as key
from tests.hidden.cases import dims, dtype_of, in_float64, make_case, random_cases

EPS_CHOICES = (None, 1e-4, 1e-3, 1e-2)  # None: the default, 1e-5
MOMENTUM_CHOICES = (None, 0.5, 0.8, 0.95)  # None: the default, 0.9


def draw_batchnorm(rng, index, mode="train"):
    """x (N, C, H, W) of at least 4 values per channel, per-channel gamma and beta, a bn_param."""
    dtype = dtype_of(index)
    n, c = (int(v) for v in rng.integers(1, 5, size=2))
    h, w = (int(v) for v in rng.integers(1, 6, size=2))
    n = max(n, -(-4 // (h * w)))
    scale = float(np.exp(rng.uniform(np.log(0.1), np.log(5.0))))
    shift = scale * rng.uniform(-8, 8, size=(1, c, 1, 1))
    arrays = dict(x=scale * rng.standard_normal((n, c, h, w)) + shift,
                  gamma=rng.standard_normal(c), beta=rng.standard_normal(c),
                  dout=rng.standard_normal((n, c, h, w)))
    bn_param = {"mode": mode}
    eps, momentum = EPS_CHOICES[rng.integers(len(EPS_CHOICES))], MOMENTUM_CHOICES[rng.integers(len(MOMENTUM_CHOICES))]
    if eps is not None:
        bn_param["eps"] = eps
    if momentum is not None:
        bn_param["momentum"] = momentum
    # Test mode needs running averages; train mode starts from given ones or from the defaults.
    if mode == "test" or rng.random() < 0.5:
        arrays["running_mean"] = shift.ravel() + scale * rng.standard_normal(c)
        arrays["running_var"] = scale ** 2 * rng.uniform(0.5, 2.0, size=c)
    extras = "".join(f"-{k}{v:g}" for k, v in bn_param.items() if k != "mode")
    given = "-running" if "running_mean" in arrays else ""
    name = f"case{index}-{dtype.name}-x{dims((n, c, h, w))}-{mode}{given}{extras}"
    return make_case("spatial_batchnorm", name, arrays, {"bn_param": bn_param}, dtype)


def draw_any_mode(rng, index):
    """Train and test mode in turn, so every run checks both."""
    return draw_batchnorm(rng, index, mode=("train", "test")[index % 2])


def bn_param_of(case, in_float64_too=False):
    """A fresh bn_param with the case's running averages when it has them."""
    bn_param = case.param("bn_param")
    for name in ("running_mean", "running_var"):
        if name in case:
            bn_param[name] = case[name].astype(np.float64) if in_float64_too else case[name]
    return bn_param


def expected_batchnorm(case):
    """The answer key's out, (dx, dgamma, dbeta) (train mode only) and bn_param after, in float64."""
    bn_param = bn_param_of(case, in_float64_too=True)
    x, gamma, beta, dout = in_float64(case["x"], case["gamma"], case["beta"], case["dout"])
    out, cache = key.spatial_batchnorm_forward(x, gamma, beta, bn_param)
    grads = key.spatial_batchnorm_backward(dout, cache) if bn_param["mode"] == "train" else None
    return out, grads, bn_param


@pytest.mark.grades("spatial_batchnorm_forward")
@random_cases(draw_any_mode)
def test_hidden_spatial_batchnorm_forward(impl, case):
    x = case["x"]
    expected, _, _ = expected_batchnorm(case)
    out, _ = unpack(impl.spatial_batchnorm_forward(x, case["gamma"], case["beta"], bn_param_of(case)),
                    2, "(out, cache)")
    assert_close(out, expected, "out", precision=x.dtype)


@pytest.mark.grades("spatial_batchnorm_forward")
@random_cases(draw_batchnorm, count=4)
def test_hidden_spatial_batchnorm_forward_updates_running_averages(impl, case):
    _, _, expected = expected_batchnorm(case)
    bn_param = bn_param_of(case)
    impl.spatial_batchnorm_forward(case["x"], case["gamma"], case["beta"], bn_param)
    for name in ("running_mean", "running_var"):
        if name not in bn_param:
            fail(f"bn_param has no {name!r} after a train-mode pass: write the running average back into bn_param")
        assert_close(bn_param[name], expected[name], f"bn_param[{name!r}]", precision=case["x"].dtype)


@pytest.mark.grades("spatial_batchnorm_backward")
@random_cases(draw_batchnorm)
def test_hidden_spatial_batchnorm_backward(impl, case):
    x = case["x"]
    _, expected, _ = expected_batchnorm(case)
    cache = cache_from(impl.spatial_batchnorm_forward, x, case["gamma"], case["beta"], bn_param_of(case))
    grads = unpack(impl.spatial_batchnorm_backward(case["dout"], cache), 3, "(dx, dgamma, dbeta)")
    for name, grad, want in zip(("dx", "dgamma", "dbeta"), grads, expected):
        assert_close(grad, want, name, precision=x.dtype)
