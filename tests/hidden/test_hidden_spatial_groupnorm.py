"""Hidden: spatial group normalization on random shapes, group counts and eps."""

import numpy as np
import pytest

from convgrader.judging.compare import assert_close, cache_from, unpack
from answer_key import layers as key
from tests.hidden.cases import dims, dtype_of, in_float64, make_case, random_cases

EPS_CHOICES = (None, 1e-4, 1e-3, 1e-2)  # None: the default, 1e-5


def draw_groupnorm(rng, index):
    """x (N, C, H, W) with G a divisor of C, gamma and beta (1, C, 1, 1), a gn_param."""
    dtype = dtype_of(index)
    n, c = int(rng.integers(1, 5)), int(rng.integers(1, 9))
    groups = int(rng.choice([g for g in range(1, c + 1) if c % g == 0]))
    h, w = (int(v) for v in rng.integers(1, 6, size=2))
    # At least 4 values per group, so the variance is not degenerate.
    h = max(h, -(-4 // ((c // groups) * w)))
    scale = float(np.exp(rng.uniform(np.log(0.1), np.log(5.0))))
    shift = scale * rng.uniform(-8, 8, size=(n, c, 1, 1))
    arrays = dict(x=scale * rng.standard_normal((n, c, h, w)) + shift,
                  gamma=rng.standard_normal((1, c, 1, 1)), beta=rng.standard_normal((1, c, 1, 1)),
                  dout=rng.standard_normal((n, c, h, w)))
    eps = EPS_CHOICES[rng.integers(len(EPS_CHOICES))]
    gn_param = {} if eps is None else {"eps": eps}
    name = f"case{index}-{dtype.name}-x{dims((n, c, h, w))}-G{groups}" + (f"-eps{eps:g}" if gn_param else "")
    return make_case("spatial_groupnorm", name, arrays, {"G": groups, "gn_param": gn_param}, dtype)


def expected_groupnorm(case):
    """The answer key's out and (dx, dgamma, dbeta), in float64."""
    x, gamma, beta, dout = in_float64(case["x"], case["gamma"], case["beta"], case["dout"])
    out, cache = key.spatial_groupnorm_forward(x, gamma, beta, case.param("G"), case.param("gn_param"))
    return out, key.spatial_groupnorm_backward(dout, cache)


@pytest.mark.grades("spatial_groupnorm_forward")
@random_cases(draw_groupnorm)
def test_hidden_spatial_groupnorm_forward(impl, case):
    expected, _ = expected_groupnorm(case)
    out, _ = unpack(impl.spatial_groupnorm_forward(case["x"], case["gamma"], case["beta"], case.param("G"),
                                                   case.param("gn_param")), 2, "(out, cache)")
    assert_close(out, expected, "out", precision=case["x"].dtype)


@pytest.mark.grades("spatial_groupnorm_backward")
@random_cases(draw_groupnorm)
def test_hidden_spatial_groupnorm_backward(impl, case):
    _, expected = expected_groupnorm(case)
    cache = cache_from(impl.spatial_groupnorm_forward, case["x"], case["gamma"], case["beta"],
                       case.param("G"), case.param("gn_param"))
    grads = unpack(impl.spatial_groupnorm_backward(case["dout"], cache), 3, "(dx, dgamma, dbeta)")
    for name, grad, want in zip(("dx", "dgamma", "dbeta"), grads, expected):
        assert_close(grad, want, name, precision=case["x"].dtype)
