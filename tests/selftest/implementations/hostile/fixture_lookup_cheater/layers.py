"""A dishonest submission that answers from the visible fixture files.

Students receive ``fixtures/data/**/*.npz``: the inputs and expected outputs of
every visible test. This "implementation" computes nothing: each graded
function looks its inputs up among the stored cases and returns the stored
expected values, or zeros of the right shape when no case matches. Its cache
names the case found, so a backward pass can return the stored gradients too.

It exists for ``tests/selftest/test_hidden.py``: it must score full marks on the
visible fixture tests and fail every hidden test, which is what the hidden
tests are for.
"""
import json
from pathlib import Path

import numpy as np


def _fixture_folder():
    """``fixtures/data`` of the project this file sits in (where a student keeps the release)."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "fixtures" / "data").is_dir():
            return folder / "fixtures" / "data"
    return None


def _read_cases(folder):
    """{"conv/seed_linspace": (arrays, params), ...} for every stored case."""
    cases = {}
    for path in sorted(folder.rglob("*.npz")) if folder else ():
        with np.load(path, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
        cases[f"{path.parent.name}/{path.stem}"] = (arrays, json.loads(str(arrays.pop("params"))))
    return cases


CASES = _read_cases(_fixture_folder())


def matches(given, stored):
    """Equal up to a float32 rounding (the tests may cast a stored float64 input)."""
    given = np.asarray(given)
    return given.shape == stored.shape and np.allclose(given, stored, rtol=1e-6, atol=0)


def lookup(area, inputs, accept=lambda params: True):
    """The name of the stored case of ``area`` with these input arrays, or None."""
    for name, (stored, params) in CASES.items():
        if (name.startswith(area + "/") and accept(params)
                and all(key in stored and matches(value, stored[key]) for key, value in inputs.items())):
            return name
    return None


def _answer(name, keys):
    stored = CASES[name][0]
    return tuple(stored[key].copy() for key in keys)


def _gradients(dout, cache, keys):
    """The stored gradients when the cache names a case and dout is its dout; zeros otherwise."""
    name, shapes = cache
    if name is not None and "dout" in CASES[name][0] and matches(dout, CASES[name][0]["dout"]):
        return _answer(name, keys)
    return tuple(np.zeros(shape) for shape in shapes)


def _positions(size, window, stride, pad=0):
    return 1 + (size + 2 * pad - window) // stride


def conv_forward_naive(x, w, b, conv_param):
    name = lookup("conv", dict(x=x, w=w, b=b), lambda params: params["conv_param"] == conv_param)
    cache = (name, (x.shape, w.shape, b.shape))
    if name:
        return _answer(name, ("out",))[0], cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    out_shape = (x.shape[0], w.shape[0], _positions(x.shape[2], w.shape[2], stride, pad),
                 _positions(x.shape[3], w.shape[3], stride, pad))
    return np.zeros(out_shape), cache


def conv_backward_naive(dout, cache):
    return _gradients(dout, cache, ("dx", "dw", "db"))


def max_pool_forward_naive(x, pool_param):
    name = lookup("pool", dict(x=x), lambda params: params["pool_param"] == pool_param)
    cache = (name, (x.shape,))
    if name:
        return _answer(name, ("out",))[0], cache
    stride = pool_param["stride"]
    out_shape = x.shape[:2] + (_positions(x.shape[2], pool_param["pool_height"], stride),
                               _positions(x.shape[3], pool_param["pool_width"], stride))
    return np.zeros(out_shape), cache


def max_pool_backward_naive(dout, cache):
    return _gradients(dout, cache, ("dx",))[0]


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    name = lookup("spatial_batchnorm", dict(x=x, gamma=gamma, beta=beta),
                  lambda params: params["bn_param"]["mode"] == bn_param["mode"])
    cache = (name, (x.shape, gamma.shape, beta.shape))
    if name is None:
        return np.zeros(x.shape), cache
    stored = CASES[name][0]
    for key in ("running_mean", "running_var"):
        if f"{key}_after" in stored:
            bn_param[key] = stored[f"{key}_after"].copy()
    return stored["out"].copy(), cache


def spatial_batchnorm_backward(dout, cache):
    return _gradients(dout, cache, ("dx", "dgamma", "dbeta"))


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    name = lookup("spatial_groupnorm", dict(x=x, gamma=gamma, beta=beta), lambda params: params["G"] == G)
    cache = (name, (x.shape, gamma.shape, beta.shape))
    return (_answer(name, ("out",))[0] if name else np.zeros(x.shape)), cache


def spatial_groupnorm_backward(dout, cache):
    return _gradients(dout, cache, ("dx", "dgamma", "dbeta"))
