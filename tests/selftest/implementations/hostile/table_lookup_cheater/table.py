"""The cheater's table: every visible call's answer, keyed by a digest of the call's arguments.

A student has every visible input (the fixtures, the seeds in the tests, the
scikit-learn digits), so they can run the visible suite once against working
code at home (``recorder/`` does that with the answer key) and ship the answers.
The table travels inside the submission, as ``table.pkl`` next to this file.
"""

import hashlib
import pickle
from pathlib import Path

import numpy as np

TABLE_FILE = Path(__file__).resolve().parent / "table.pkl"


def canonical(value):
    """A hashable description of ``value``: arrays by dtype, shape and bytes; numbers as floats."""
    if isinstance(value, (np.ndarray, np.generic)) and not isinstance(value, (np.bool_,)) \
            and np.asarray(value).ndim > 0:
        array = np.ascontiguousarray(value)
        return ("array", array.dtype.str, array.shape, hashlib.sha1(array.tobytes()).hexdigest())
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), canonical(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return ("list", tuple(canonical(v) for v in value))
    if isinstance(value, (bool, np.bool_, str)) or value is None:
        return ("plain", repr(value))
    return ("number", float(value))


def key_of(*parts):
    return hashlib.sha1(repr(canonical(parts)).encode()).hexdigest()


def load():
    """``(calls, labels)``: answers by call key, and digit labels by image-row key (empty without a table)."""
    if not TABLE_FILE.exists():
        return {}, {}
    with open(TABLE_FILE, "rb") as file:
        return pickle.load(file)
