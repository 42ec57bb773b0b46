"""Compiled kernels for the fast convolution and pooling layers.

The kernels live in the Cython extension ``fast_ext._kernels``; the layers
built on them are in ``reference.fast_layers``. There is deliberately no
pure-Python fallback: a missing build must fail loudly, not run 100x slower.
"""

import os
from typing import NamedTuple

BUILD_COMMAND = "python -m pip install -e ."

# GNU OpenMP keeps idle worker threads spinning for ~300,000 pause
# instructions after each parallel loop -- several milliseconds on CPUs where
# a pause costs ~140 cycles. A convolution alternates our loops with BLAS
# calls, and on a 2-core machine the spinning worker takes a core from BLAS
# (measured here: conv forward+backward about 30% slower). A shorter spin
# keeps back-to-back loops fast and then yields the core. Only a default:
# a GOMP_SPINCOUNT or OMP_WAIT_POLICY set by the user wins, and it has an
# effect only if libgomp is not loaded yet when fast_ext is first imported.
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")

try:
    from fast_ext._kernels import (
        conv_backward,
        conv_forward,
        max_pool_backward,
        max_pool_forward,
        max_threads,
        openmp_compiled,
        output_size,
    )
except ImportError as error:  # pragma: no cover - exercised only without a build
    raise ImportError(
        "The compiled kernels of fast_ext are missing or cannot be loaded"
        f" ({error}). Build them by running\n\n    {BUILD_COMMAND}\n\n"
        "in the project root (the folder holding pyproject.toml), then restart"
        " the Python process (or the notebook kernel)."
    ) from error


class ParallelInfo(NamedTuple):
    """How the kernels run: ``openmp`` tells whether OpenMP was compiled in,
    ``num_threads`` how many threads a parallel loop uses (1 without OpenMP)."""

    openmp: bool
    num_threads: int


def parallel_info():
    """Return a :class:`ParallelInfo` for the loaded extension.

    ``num_threads`` follows ``OMP_NUM_THREADS`` as read when the process started.
    """
    return ParallelInfo(openmp=openmp_compiled(), num_threads=max_threads())


__all__ = [
    "BUILD_COMMAND",
    "ParallelInfo",
    "conv_backward",
    "conv_forward",
    "max_pool_backward",
    "max_pool_forward",
    "output_size",
    "parallel_info",
]
