"""The forwards look for working fast code, each by a route of its own, and use what they find.

Both routes worked against the in-process guard of the last round (issue 16);
neither may find anything now. A route that finds nothing raises "found no fast
code", so the self-test can tell a contained attack (0 points for that part,
that message) from one that got through (its tests pass) or one that broke for
another reason (another message). The backwards' routes are in
``../backwards_reach_for_fast_code``.

- conv_forward_naive: the kernels' ``.so`` (found anywhere, or shipped beside this
  file as ``shipped_kernels.so``) copied to ``/tmp``, ``/dev/shm`` and a memfd, loaded,
  and the fast layers' source (shipped as ``shipped_fast_layers.py``) run on it;
- max_pool_forward_naive: a child interpreter running the fast layers.
"""
import glob
import importlib.machinery
import importlib.util
import os
import shutil
import sys
import types

import numpy as np

from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("conv_forward_naive", "max_pool_forward_naive")
HERE = os.path.dirname(os.path.abspath(__file__))


class FoundNothing(Exception):
    pass


CHILD = """
import sys, numpy as np
from reference.fast_layers import max_pool_forward_fast
x = np.load(sys.argv[1])
out, _ = max_pool_forward_fast(x, {"pool_height": int(sys.argv[3]), "pool_width": int(sys.argv[4]),
                                   "stride": int(sys.argv[5])})
np.save(sys.argv[2], out)
"""


def max_pool_forward_naive(x, pool_param):
    import subprocess
    import tempfile

    folder = tempfile.mkdtemp()
    np.save(os.path.join(folder, "x.npy"), x)
    try:
        run = subprocess.run([sys.executable, "-c", CHILD, os.path.join(folder, "x.npy"),
                              os.path.join(folder, "out.npy"), str(pool_param["pool_height"]),
                              str(pool_param["pool_width"]), str(pool_param["stride"])],
                             capture_output=True, text=True, timeout=30)
    except BaseException as error:  # noqa: B902
        raise FoundNothing(f"found no fast code (no child interpreter: {error})") from None
    if run.returncode != 0:
        raise FoundNothing(f"found no fast code (the child: {run.stderr.strip()[-200:]})")
    return np.load(os.path.join(folder, "out.npy")), (x, pool_param)


def _kernel_files():
    """The kernels' .so wherever the import path shows a ``fast_ext`` folder, and the one shipped here."""
    found = glob.glob(os.path.join(HERE, "*.so"))
    for folder in sys.path:
        found += glob.glob(os.path.join(folder or ".", "fast_ext", "_kernels*.so"))
    return list(dict.fromkeys(found))


def _load_kernels(path):
    """fast_ext's kernels loaded from ``path``, as a module named ``fast_ext``."""
    loader = importlib.machinery.ExtensionFileLoader("fast_ext._kernels", path)
    spec = importlib.util.spec_from_file_location("fast_ext._kernels", path, loader=loader)
    kernels = importlib.util.module_from_spec(spec)
    loader.exec_module(kernels)
    package = types.ModuleType("fast_ext")
    package.__dict__.update({k: v for k, v in vars(kernels).items() if not k.startswith("__")})
    return package


def _copies(path):
    """``path`` copied where a submission can write: /tmp, /dev/shm, a memfd."""
    for folder in ("/tmp", "/dev/shm"):
        try:
            target = os.path.join(folder, f"k{abs(hash(path))}.so")
            shutil.copyfile(path, target)
            yield target
        except OSError as error:
            yield f"! {folder}: {error}"
    try:
        fd = os.memfd_create("k")
        with open(path, "rb") as source:
            os.write(fd, source.read())
        yield f"/proc/self/fd/{fd}"
    except OSError as error:
        yield f"! memfd: {error}"


def conv_forward_naive(x, w, b, conv_param):
    tried = []
    source_path = os.path.join(HERE, "shipped_fast_layers.py")
    for path in _kernel_files():
        for copy in _copies(path):
            if copy.startswith("!"):
                tried.append(copy[2:])
                continue
            try:
                fake = _load_kernels(copy)
                module = types.ModuleType("stolen_fast_layers")
                sys.modules["fast_ext"] = fake
                with open(source_path) as source:
                    exec(compile(source.read(), "stolen_fast_layers", "exec"), module.__dict__)
                return module.conv_forward_fast(x, w, b, conv_param)
            except BaseException as error:  # noqa: B902
                tried.append(f"{copy}: {type(error).__name__}: {str(error)[:100]}")
    raise FoundNothing(f"found no fast code ({len(_kernel_files())} kernel files; " + "; ".join(tried[:6]) + ")")
