"""Random cases for the hidden tests, drawn from the seed of ``--hidden-seed``.

A test asks for its cases with ``@random_cases(draw)``; ``conftest.py`` calls
``draw(rng, index)`` once per case at collection time, with one generator per
test seeded by the hidden seed and a number made from the test's name. So the
same seed gives the same cases on every machine, another seed gives others, and
the case ids can name the shapes and parameters each case exercises.

A case is a :class:`fixtures.Case`, the same object the visible tests read, so
the hidden tests look like the visible ones and every access is a fresh copy.
"""

import zlib

import numpy as np

from convgrader.judging.fixtures import Case

#: Cases alternate between the two precisions, so every test sees both whatever the seed.
DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def random_cases(draw, count=5):
    """Parametrize a test's ``case`` with ``count`` cases made by ``draw(rng, index)``."""
    def attach(test):
        test.random_cases = (draw, count)
        return test
    return attach


def generator_for(seed, test_name):
    """The generator of one test's cases: the hidden seed and a stable number from the test's name.

    ``hash()`` changes from run to run, CRC-32 does not. Seeding with the pair,
    rather than their sum, keeps any two (seed, test) pairs on distinct streams.
    """
    return np.random.default_rng([seed, zlib.crc32(test_name.encode())])


def dtype_of(index):
    return DTYPES[index % len(DTYPES)]


def fitting_size(rng, window, stride, pad=0):
    """A size along one axis on which the windows fit exactly: (size + 2 pad - window) % stride == 0.

    Between 1 and 4 window positions more than the fewest that leave a size of
    at least one, so a pad wider than the window still has an input under it.
    """
    fewest = max(1, 1 + -(-(2 * pad - window + 1) // stride))
    positions = int(rng.integers(fewest, fewest + 4))
    return (positions - 1) * stride + window - 2 * pad


def dims(shape):
    """``(2, 3, 7, 5)`` -> ``"2x3x7x5"``, for case ids."""
    return "x".join(str(int(n)) for n in shape)


def make_case(area, name, arrays, params, dtype):
    """A :class:`fixtures.Case` whose floating arrays are stored in ``dtype``."""
    arrays = {key: (value.astype(dtype) if value.dtype.kind == "f" else value)
              for key, value in arrays.items()}
    return Case(area, name, arrays, params)


def in_float64(*arrays):
    """The arrays in float64, as the answer key computes expected values."""
    return [np.asarray(a, dtype=np.float64) for a in arrays]
