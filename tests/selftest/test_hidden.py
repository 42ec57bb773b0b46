"""The hidden tests do their job: correct code passes them, code that copies the visible answers fails them.

Each implementation is graded in a fresh process, as an instructor would grade
it, with ``--hidden`` and the hidden folder added to the graded suite. Two
cheaters stand for the submissions the hidden tests exist to catch: one
hard-codes the notebook's printed outputs, one reads the fixture files that
students receive.
"""

import subprocess
import sys

import pytest

from convgrader.assignment import PARTS
from convgrader.judging.options import HIDDEN_SEED
from tests.selftest.graded_runs import IMPLEMENTATIONS, PROJECT, grade

HIDDEN = PROJECT / "tests" / "hidden"
HOSTILE = IMPLEMENTATIONS / "hostile"
WITH_HIDDEN = ("--hidden", str(HIDDEN))
CORRECT = {"answer_key": "answer_key", "vectorized": str(IMPLEMENTATIONS / "vectorized"),
           "loops_float32": str(IMPLEMENTATIONS / "loops_float32"),
           "ties_last_maximum": str(IMPLEMENTATIONS / "ties_last_maximum"),
           "ties_split_evenly": str(IMPLEMENTATIONS / "ties_split_evenly")}
#: The visible tests whose inputs and expected values are fixture files students receive.
FIXTURE_TESTS = (
    "test_conv_forward_naive", "test_conv_backward_naive",
    "test_max_pool_forward_naive", "test_max_pool_backward_naive",
    "test_spatial_batchnorm_forward", "test_spatial_batchnorm_forward_updates_running_averages",
    "test_spatial_batchnorm_forward_normalizes_each_channel", "test_spatial_batchnorm_backward",
    "test_spatial_groupnorm_forward", "test_spatial_groupnorm_forward_normalizes_each_group",
    "test_spatial_groupnorm_backward",
    "test_ThreeLayerConvNet_scores", "test_ThreeLayerConvNet_loss_and_gradients",
)

pytestmark = pytest.mark.timeout(900)


def function_of(verdict):
    return verdict.name.split("[")[0]


def is_hidden(verdict):
    return verdict.name.startswith("test_hidden_")


def assert_every_hidden_test_fails(verdicts):
    # The cheaters build their model honestly (it needs no answers), so the twins of the
    # initialization tests pass; everything else they answer from memory.
    hidden = [v for v in verdicts if is_hidden(v) and "_init_" not in v.name]
    assert {v.part for v in hidden} == set(PARTS), "some part has no hidden test"
    passed = [v.name for v in hidden if v.outcome == "passed"]
    assert not passed, "a cheater passed hidden tests:\n" + "\n".join(passed)


def collected(*args):
    """The node ids a plain ``pytest --collect-only`` with ``args`` finds, run from the project."""
    run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
                         cwd=PROJECT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return [line for line in run.stdout.splitlines() if "::" in line]


@pytest.mark.parametrize("impl", CORRECT.values(), ids=CORRECT.keys())
def test_correct_implementation_passes_every_hidden_test(tmp_path, impl):
    verdicts = grade(impl, tmp_path, select="hidden", extra_args=WITH_HIDDEN)
    assert verdicts and all(is_hidden(v) for v in verdicts)
    assert {v.part for v in verdicts} == set(PARTS), "every graded part has hidden tests"
    lost = [f"{v.name}: {v.outcome}\n{v.message[:400]}" for v in verdicts if v.outcome != "passed"]
    assert not lost, "a correct implementation lost hidden points:\n" + "\n".join(lost)


def test_fixture_lookup_cheater_passes_visible_fixture_tests_and_fails_hidden_ones(tmp_path):
    select = f"({' or '.join(FIXTURE_TESTS)} or hidden) and not agrees_with_fast"
    verdicts = grade(str(HOSTILE / "fixture_lookup_cheater"), tmp_path, select=select, extra_args=WITH_HIDDEN)
    visible = [v for v in verdicts if function_of(v) in FIXTURE_TESTS]
    assert {function_of(v) for v in visible} == set(FIXTURE_TESTS), "some fixture test did not run"
    lost = [f"{v.name}: {v.outcome}\n{v.message[:300]}" for v in visible if v.outcome != "passed"]
    assert not lost, "the cheater should pass every visible fixture test:\n" + "\n".join(lost)
    assert_every_hidden_test_fails(verdicts)


def test_printed_values_cheater_passes_the_notebook_checks_and_fails_hidden_ones(tmp_path):
    verdicts = grade(str(HOSTILE / "printed_values_cheater"), tmp_path, select="seed_linspace or hidden",
                     extra_args=WITH_HIDDEN)
    outcome = {v.name: v.outcome for v in verdicts}
    assert outcome["test_conv_forward_naive[seed_linspace]"] == "passed"
    assert outcome["test_max_pool_forward_naive[seed_linspace]"] == "passed"
    assert_every_hidden_test_fails(verdicts)


def test_hidden_tests_are_collected_only_with_the_option():
    plain = collected()
    assert plain and not [node for node in plain if node.startswith("tests/hidden/")]
    with_option = [node for node in collected("--hidden") if node.startswith("tests/hidden/")]
    marked = collected("--hidden", "-m", "hidden")
    assert with_option and marked == with_option, "with --hidden, the hidden marker selects exactly tests/hidden"


def examples_drawn(*args):
    """The hidden cases Hypothesis tries for the answer key's convolution forward with ``args``."""
    run = subprocess.run([sys.executable, "-m", "pytest", "--impl=answer_key", "--hidden", str(HIDDEN), "-q", "-s",
                          "-p", "no:cacheprovider", "-k", "hidden_conv_forward", "--hypothesis-verbosity=verbose",
                          *args], cwd=PROJECT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return [line.strip() for line in run.stdout.splitlines() if line.strip().startswith("case=")]


def test_hidden_seed_chooses_the_cases():
    default = examples_drawn()
    assert default, "no hidden example was reported"
    assert examples_drawn(f"--hidden-seed={HIDDEN_SEED}") == default, \
        "the same seed must give the same cases in every run"
    other = examples_drawn(f"--hidden-seed={HIDDEN_SEED + 1}")
    assert len(other) == len(default)
    assert other != default, "another seed must give other cases"
