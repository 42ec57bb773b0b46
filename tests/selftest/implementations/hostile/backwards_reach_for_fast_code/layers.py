"""The backwards look for working fast code, each by a route of its own, and use what they find.

Both routes worked against the in-process guard of the last round (issue 16);
neither may find anything now. The forwards are honest, so each backward's
test gets its cache; a route that finds nothing raises "found no fast code".

- conv_backward_naive: the fast functions' closures, ``__wrapped__``, their module's
  globals, and ``reference.fast_layers`` and ``fast_ext`` loaded afresh, past the
  import machinery, after emptying ``sys.modules``;
- max_pool_backward_naive: every function ``gc.get_objects()`` knows.
"""
import gc
import importlib.util
import sys

import numpy as np

from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("conv_backward_naive", "max_pool_backward_naive")


class FoundNothing(Exception):
    pass


def _works(function, *args):
    """``function``'s result on ``args`` when it computes, else None."""
    try:
        result = function(*args)
    except BaseException:  # noqa: B902
        return None
    return result if isinstance(result, tuple) and result and isinstance(result[0], np.ndarray) else None


def _unwrapped(function, seen=None):
    """``function``, whatever it wraps, and the callables of its closure, recursively."""
    seen = seen if seen is not None else set()
    if id(function) in seen or not callable(function):
        return []
    seen.add(id(function))
    found = [function]
    found += _unwrapped(getattr(function, "__wrapped__", None), seen)
    for cell in getattr(function, "__closure__", None) or ():
        try:
            found += _unwrapped(cell.cell_contents, seen)
        except ValueError:
            pass
    for value in list(getattr(function, "__globals__", {}).values()):
        if callable(value) and getattr(value, "__name__", "") in ("conv_forward_fast", "conv_forward"):
            found += _unwrapped(value, seen)
    return found


def conv_backward_naive(dout, cache):
    x_padded, w, stride, pad = cache
    x = x_padded[:, :, pad:x_padded.shape[2] - pad, pad:x_padded.shape[3] - pad]
    b, conv_param = np.zeros(w.shape[0]), {"stride": stride, "pad": pad}
    tried = []
    try:
        from reference import fast_layers
    except BaseException as error:  # noqa: B902 -- after an earlier call emptied sys.modules
        tried.append(f"reference.fast_layers: {type(error).__name__}: {str(error)[:120]}")
        fast_layers = None
    for candidate in _unwrapped(getattr(fast_layers, "conv_forward_fast", None)):
        found = _works(candidate, x, w, b, conv_param)
        for backward in _unwrapped(fast_layers.conv_backward_fast) if found is not None else ():
            try:
                return backward(dout, found[1])
            except BaseException:  # noqa: B902
                pass
    tried.append("closures")
    for name in [n for n in sys.modules if n.startswith(("fast_ext", "reference"))]:
        del sys.modules[name]
    for name in ("reference.fast_layers", "fast_ext"):
        try:
            spec = importlib.util.find_spec(name)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        except BaseException as error:  # noqa: B902
            tried.append(f"{name}: {type(error).__name__}: {str(error)[:120]}")
            continue
        function = getattr(module, "conv_forward_fast", None)
        found = _works(function, x, w, b, conv_param) if function is not None else None
        if found is not None:
            return module.conv_backward_fast(dout, found[1])
        tried.append(f"{name} refuses")
    raise FoundNothing(f"found no fast code ({'; '.join(tried)})")


def max_pool_backward_naive(dout, cache):
    x, (pool_height, pool_width), stride = cache
    pool_param = {"pool_height": pool_height, "pool_width": pool_width, "stride": stride}
    forwards = [f for f in gc.get_objects() if callable(f) and getattr(f, "__name__", "") == "max_pool_forward_fast"]
    backwards = [f for f in gc.get_objects() if callable(f) and getattr(f, "__name__", "") == "max_pool_backward_fast"]
    for forward in forwards:
        result = _works(forward, x, pool_param)
        for backward in backwards if result is not None else ():
            try:
                return backward(dout, result[1])
            except BaseException:  # noqa: B902
                pass
    raise FoundNothing(f"found no fast code ({len(forwards)} forwards, {len(backwards)} backwards, none works)")


