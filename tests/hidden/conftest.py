"""The hidden tests: kept from students, collected only with ``--hidden``.

Their cases are drawn by Hypothesis from the strategies of
``tests/graded/contract.py``, seeded by ``--hidden-seed`` (default
``convgrader.judging.options.HIDDEN_SEED``, recorded in every report): a
submission cannot be tuned to them, every submission of a run sees the same
examples, and a run can be repeated exactly.

Each Hypothesis test is one graded item; its marker's weight (5, or 4 where
four cases were drawn before) keeps the hidden tests' share of each part's
points what the hand-drawn cases they replace had.
"""

import zlib

import hypothesis
import pytest

from tests.hidden.twins import twin_case_of


def pytest_generate_tests(metafunc):
    test = metafunc.function
    if getattr(test, "is_hypothesis_test", False):
        # One stream per test: the hidden seed and a stable number from the test's name (CRC-32,
        # as hash() changes from run to run).
        name = metafunc.definition.originalname
        hypothesis.seed(metafunc.config.getoption("hidden_seed") * 2 ** 32 + zlib.crc32(name.encode()))(test)


@pytest.fixture
def twin_case(request):
    """The fresh twin of the visible case ``(area, name)`` the test is parametrized with (see twins.py)."""
    area, name = request.param
    return twin_case_of(request.config, area, name)
