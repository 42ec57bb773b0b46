"""At import, overwrite the fixtures and plant report files: detected as tampering, scored 0."""
import os
from pathlib import Path

from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("*",)

_fixtures = Path(__import__("fixtures").__file__).parent / "data"
for _path in _fixtures.glob("conv/*.npz"):
    try:
        with open(_path, "ab") as _file:
            _file.write(b"tampered")
    except OSError:
        pass
for _report in ("results.json", "/autograder/results/results.json"):
    try:
        os.makedirs(os.path.dirname(_report) or ".", exist_ok=True)
        Path(_report).write_text('{"score": 1000}')
    except OSError:
        pass
