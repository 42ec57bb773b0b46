"""The commands as users type them: ``--impl`` in one word and two, and ``-k`` selection."""

import subprocess
import sys

import pytest

from convgrader.assignment import PARTS, part_of
from tests.selftest.graded_runs import IMPLEMENTATIONS, PROJECT

VECTORIZED = IMPLEMENTATIONS / "vectorized"


def pytest_run(*args, cwd=PROJECT):
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def collected(*args):
    run = pytest_run("--collect-only", "-q", *args)
    assert run.returncode == 0, run.stdout + run.stderr
    return [line.split("::")[-1] for line in run.stdout.splitlines() if "::" in line]


@pytest.mark.parametrize("form", [
    ["--impl", str(VECTORIZED)],                          # two words, absolute
    ["--impl", str(VECTORIZED.relative_to(PROJECT))],     # two words, relative
    [f"--impl={VECTORIZED}"],                             # one word
])
def test_impl_forms_grade_the_named_folder(form):
    run = pytest_run(*form, "-k", "conv_forward and not fast")
    assert run.returncode == 0, run.stdout[-2000:]
    assert "10 passed" in run.stdout


def test_two_word_impl_works_from_another_directory(tmp_path):
    run = pytest_run("--impl", str(VECTORIZED), "-k", "max_pool_forward and not fast",
                     str(PROJECT / "tests" / "graded"), cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-2000:]
    assert "7 passed" in run.stdout


def test_an_unknown_impl_is_a_clear_usage_error():
    run = pytest_run("--impl", "no/such/folder")
    assert run.returncode == 4
    assert "no such folder" in run.stderr


@pytest.mark.parametrize("keyword, part", [
    ("conv_backward", "conv_backward_naive"),
    ("conv_forward", "conv_forward_naive"),
    ("max_pool_backward", "max_pool_backward_naive"),
    ("ThreeLayerConvNet", "ThreeLayerConvNet"),
])
def test_k_selects_exactly_one_parts_tests(keyword, part):
    names = collected("-k", keyword)
    assert names and all(part_of(name.split("[")[0]) == part for name in names), names


def test_spatial_batchnorm_selects_both_of_its_functions():
    names = collected("-k", "spatial_batchnorm")
    assert {part_of(n.split("[")[0]) for n in names} == {"spatial_batchnorm_forward", "spatial_batchnorm_backward"}


def test_a_plain_run_collects_graded_tests_only():
    names = collected()
    assert names and all(part_of(name.split("[")[0]) in PARTS for name in names)
