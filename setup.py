"""Build the Cython kernels of ``fast_ext`` (convolution and max pooling).

Run in the project root, either of::

    python -m pip install -e .            # editable install (PEP 660), the usual way
    python setup.py build_ext --inplace   # compile next to the sources only

Project metadata lives in pyproject.toml; this file only describes the
extension. The convolution calls sgemm/dgemm through SciPy's Cython BLAS
bindings (``scipy.linalg.cython_blas``), so SciPy is needed to build and to
run; nothing links against a BLAS at build time.

OpenMP is used when the compiler accepts it (the kernels are then split
across threads; ``OMP_NUM_THREADS`` sets how many). Apple clang and
MSVC without OpenMP support get a single-threaded build instead of an error.
Set ``FAST_EXT_OPENMP=0`` to build without OpenMP on purpose.
"""

import os
import tempfile

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CompileError, LinkError

OPENMP_ENV_SWITCH = "FAST_EXT_OPENMP"

# (compile flags, link flags) per compiler family; MSVC links its runtime itself.
OPENMP_FLAGS = {
    "msvc": (["/openmp"], []),
    "unix": (["-fopenmp"], ["-fopenmp"]),
    "mingw32": (["-fopenmp"], ["-fopenmp"]),
    "cygwin": (["-fopenmp"], ["-fopenmp"]),
}

OPENMP_PROBE_SOURCE = """\
#include <omp.h>
int main(void) {
    int threads = 0;
    #pragma omp parallel
    {
        #pragma omp atomic
        threads += 1;
    }
    return threads == omp_get_max_threads() ? 0 : 1;
}
"""

CYTHON_DIRECTIVES = {
    "language_level": "3",
    # The kernels switch bounds and wraparound checks off themselves; keeping
    # them on by default protects the (cold) argument-handling code.
    "boundscheck": True,
    "wraparound": True,
    "embedsignature": True,
}


def openmp_requested():
    """False when the user turned OpenMP off with FAST_EXT_OPENMP=0/false/no/off."""
    value = os.environ.get(OPENMP_ENV_SWITCH, "1").strip().lower()
    return value not in {"0", "false", "no", "off"}


def compiler_accepts(compiler, compile_flags, link_flags, source):
    """Try to compile and link ``source`` with the given flags in a scratch directory."""
    with tempfile.TemporaryDirectory(prefix="fast_ext_probe_") as scratch:
        source_path = os.path.join(scratch, "probe.c")
        with open(source_path, "w", encoding="ascii") as handle:
            handle.write(source)
        try:
            objects = compiler.compile(
                [source_path], output_dir=scratch, extra_postargs=compile_flags)
            compiler.link_executable(
                objects, "probe", output_dir=scratch, extra_postargs=link_flags)
        except (CompileError, LinkError):
            return False
    return True


class BuildExtOptionalOpenMP(build_ext):
    """build_ext that adds OpenMP flags only when the compiler can use them."""

    def build_extensions(self):
        compile_flags, link_flags = self._openmp_flags()
        for extension in self.extensions:
            extension.extra_compile_args = list(extension.extra_compile_args) + compile_flags
            extension.extra_link_args = list(extension.extra_link_args) + link_flags
        super().build_extensions()

    def _openmp_flags(self):
        if not openmp_requested():
            print(f"fast_ext: {OPENMP_ENV_SWITCH}=0, building without OpenMP")
            return [], []
        flags = OPENMP_FLAGS.get(self.compiler.compiler_type)
        if flags is None or not compiler_accepts(self.compiler, *flags, OPENMP_PROBE_SOURCE):
            print("fast_ext: the compiler does not accept OpenMP;"
                  " building single-threaded kernels")
            return [], []
        print(f"fast_ext: building with OpenMP ({' '.join(flags[0])})")
        return list(flags[0]), list(flags[1])


extensions = [
    Extension(
        "fast_ext._kernels",
        sources=["fast_ext/_kernels.pyx"],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    ),
]

setup(
    # The generated C goes under build/ so that it never ships inside the package.
    ext_modules=cythonize(extensions, compiler_directives=CYTHON_DIRECTIVES,
                          build_dir="build/cython"),
    cmdclass={"build_ext": BuildExtOptionalOpenMP},
)
