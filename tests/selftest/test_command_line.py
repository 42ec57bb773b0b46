"""The commands as users type them: ``--impl`` in one word and two, and ``-k`` selection."""

import json
import subprocess
import sys

import pytest

from convgrader.assignment import PARTS
from tests.selftest.graded_runs import IMPLEMENTATIONS, PROJECT

VECTORIZED = IMPLEMENTATIONS / "vectorized"


def pytest_run(*args, cwd=PROJECT):
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def collected(*args, manifest=None):
    """{test name: the part it declares} of the tests a run with ``args`` collects."""
    run = pytest_run("--collect-only", "-q", f"--collect-manifest={manifest}", *args)
    assert run.returncode == 0, run.stdout + run.stderr
    entries = [json.loads(line) for line in manifest.read_text().splitlines()]
    return {entry["name"]: entry["part"] for entry in entries}


@pytest.mark.parametrize("form", [
    ["--impl", str(VECTORIZED)],                          # two words, absolute
    ["--impl", str(VECTORIZED.relative_to(PROJECT))],     # two words, relative
    [f"--impl={VECTORIZED}"],                             # one word
])
def test_impl_forms_grade_the_named_folder(form):
    run = pytest_run(*form, "-k", "conv_forward and not fast")
    assert run.returncode == 0, run.stdout[-2000:]
    assert "11 passed" in run.stdout


def test_two_word_impl_works_from_another_directory(tmp_path):
    run = pytest_run("--impl", str(VECTORIZED), "-k", "max_pool_forward and not fast",
                     str(PROJECT / "tests" / "graded"), cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-2000:]
    assert "12 passed" in run.stdout


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
def test_k_selects_exactly_one_parts_tests(keyword, part, tmp_path):
    parts = collected("-k", keyword, manifest=tmp_path / "m.jsonl")
    assert parts and set(parts.values()) == {part}, parts


def test_spatial_batchnorm_selects_both_of_its_functions(tmp_path):
    parts = collected("-k", "spatial_batchnorm", manifest=tmp_path / "m.jsonl")
    assert set(parts.values()) == {"spatial_batchnorm_forward", "spatial_batchnorm_backward"}


def test_a_plain_run_collects_graded_tests_only(tmp_path):
    parts = collected(manifest=tmp_path / "m.jsonl")
    assert parts and set(parts.values()) == set(PARTS)
