"""Hidden twins of the visible tests: the same checks on fresh inputs, for the grade of record.

Students receive every visible test's inputs and expected values, so a
submission could answer them from a table. With ``--hidden`` each scored visible
test gets a twin here: the visible test's own function, run on inputs of the
same shapes, parameters and dtype drawn afresh from ``--hidden-seed``, its
expected values computed from the answer key. A twin carries no points; its
``twin_of`` marker names the visible tests it confirms, and a visible test
scores only when its twin passed too (``convgrader/judging/points.py``).

A fixture case's twin is the case's own recipe (``CASES`` in
``convgrader/course/generate_fixtures.py``) called with another seed; a test
that draws its inputs in code gets them from :func:`twin_rng`.
"""

import functools
import zlib

import pytest

from convgrader.assignment import MARKER
from convgrader.judging import fixtures
from convgrader.judging.points import TWIN_MARKER


def seed_for(config, name):
    """The seed of a twin's inputs: the hidden seed and a stable number from ``name`` (CRC-32)."""
    return (config.getoption("hidden_seed") * 1_000_003 + zlib.crc32(name.encode())) % 2 ** 32


def twin_rng(config, name):
    """A ``RandomState`` for the twin called ``name``, seeded from ``--hidden-seed``."""
    import numpy as np

    return np.random.RandomState(seed_for(config, name))


@functools.lru_cache(maxsize=None)
def _twin_case(area, name, seed):
    from convgrader.course.generate_fixtures import twin_case

    return twin_case(area, name, seed)


def twin_case_of(config, area, name):
    """The visible case ``area/name`` drawn afresh from the hidden seed (computed once per run)."""
    return _twin_case(area, name, seed_for(config, f"{area}/{name}"))


def over_twin_cases(area, having=(), names=None):
    """Parametrize the ``twin_case`` fixture with the twins of ``area``'s cases, under the visible ids.

    ``having`` keeps the cases holding these arrays, as :func:`~convgrader.judging.fixtures.over_cases`
    does; ``names`` lists the cases instead (for a test parametrized by case name).
    """
    if names is None:
        names = [name for name in fixtures.names(area)
                 if all(key in fixtures.load(area, name) for key in having)]
    return pytest.mark.parametrize("twin_case", [(area, name) for name in names], ids=list(names), indirect=True)


def part_of(test):
    """The part a visible test function declares on its ``grades`` marker."""
    return next(mark.args[0] for mark in getattr(test, "pytestmark", []) if mark.name == MARKER)


def twin(visible, *more):
    """Mark a twin of the visible test function ``visible`` (and of ``more``, of the same part).

    The twin grades the same part, carries no points, and is the twin of the visible
    tests of the same parameters.
    """
    part = part_of(visible)
    assert all(part_of(test) == part for test in more), "a twin confirms tests of one part"

    def mark(test):
        return pytest.mark.grades(part, scored=False)(getattr(pytest.mark, TWIN_MARKER).with_args(visible, *more)(test))
    return mark
