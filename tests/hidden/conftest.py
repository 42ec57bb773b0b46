"""The hidden tests: kept from students, collected only with ``--hidden``.

The cases are random, so a submission cannot be tuned to them, but fixed by
``--hidden-seed`` (default ``convgrader.judging.plugin.HIDDEN_SEED``), so a run can be
repeated. They are drawn here, at collection, rather than in a fixture: the
parametrization has to exist before any test runs, and its ids name the cases.
"""

from tests.hidden.cases import generator_for


def pytest_generate_tests(metafunc):
    recipe = getattr(metafunc.function, "random_cases", None)
    if recipe is None:
        return
    draw, count = recipe
    rng = generator_for(metafunc.config.getoption("hidden_seed"), metafunc.function.__name__)
    cases = [draw(rng, index) for index in range(count)]
    metafunc.parametrize("case", cases, ids=[case.name for case in cases])
