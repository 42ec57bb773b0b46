"""The frozen fixtures are what the answer key computes, and match the seed's printed values."""

import numpy as np

from convgrader.judging import fixtures
from convgrader.course import generate_fixtures as generate


def test_rebuilding_the_fixtures_changes_nothing(tmp_path):
    generate.write_all(tmp_path)
    assert generate.differences(tmp_path) == []


def test_answer_key_reproduces_the_seeds_printed_values():
    errors = generate.check_printed_values()
    assert all(error < 1e-7 for error in errors.values()), errors


def test_every_area_has_cases_and_every_case_loads():
    for area in fixtures.AREAS:
        names = fixtures.names(area)
        assert len(names) >= 4, area
        for name in names:
            case = fixtures.load(area, name)
            assert all(np.all(np.isfinite(case[key])) for key in case.keys()), case


def test_a_case_hands_out_copies():
    case = fixtures.load("conv", "seed_linspace")
    x = case["x"]
    x[...] = 0
    assert np.any(case["x"] != 0)
    param = case.param("conv_param")
    param["stride"] = 99
    assert case.param("conv_param")["stride"] == 2


def test_the_check_command_finds_a_changed_fixture(tmp_path):
    generate.write_all(tmp_path)
    case = fixtures.load("pool", "seed_gradcheck", tmp_path)
    arrays = {key: case[key] for key in case.keys()}
    arrays["dx"][0, 0, 0, 0] += 1e-3
    fixtures.save(arrays, case._params, tmp_path / "pool" / "seed_gradcheck.npz")
    assert generate.differences(tmp_path) == ["pool/seed_gradcheck: dx differs"]
