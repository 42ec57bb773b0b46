"""Where things are: the one definition of the project's root and of its folders.

The harness runs from a checkout (or an editable install of one): tests, fixtures
and the answer key are files beside the package, not installed data.
"""

from pathlib import Path

#: The checkout's root folder (the one holding ``convgrader/``, ``tests/``, ``fixtures/``).
PROJECT = Path(__file__).resolve().parents[1]
HARNESS = PROJECT / "convgrader"
TESTS = PROJECT / "tests"
GRADED_TESTS = TESTS / "graded"
HIDDEN_TESTS = TESTS / "hidden"
SELF_TESTS = TESTS / "selftest"
BENCHMARKS = TESTS / "benchmarks"
#: The frozen fixture arrays, ``<area>/<case>.npz``.
FIXTURES = PROJECT / "fixtures" / "data"
#: What only instructors have; a student release leaves the folder out whole.
ANSWER_KEY = PROJECT / "answer_key"
