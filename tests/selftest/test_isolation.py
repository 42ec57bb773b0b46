"""Grading survives hostile submissions: each attack costs only the tests it hits.

Every submission here (tests/selftest/implementations/hostile/) is graded with
``python -m convgrader grade``, restricted to the attacked parts and one
bystander part, which must keep full marks; the report must be complete and
say what happened.
"""

import shutil

import pytest

from tests.selftest.graded_runs import IMPLEMENTATIONS, PROJECT, grade_report

HOSTILE = IMPLEMENTATIONS / "hostile"
#: Short bounds keep the self-test quick; hangs are told from slowness all the same.
FAST = ("--call-timeout", "5")

pytestmark = pytest.mark.timeout(900)

# submission: (-k selection, attacked part, words its failures must contain, bystander part)
ATTACKS = {
    "endless_loop_ignoring_sigalrm": ("conv_forward or max_pool_forward", "conv_forward_naive", "hung",
                                      "max_pool_forward_naive"),
    "sleeps_catching_base_exception": ("max_pool_forward or conv_forward", "max_pool_forward_naive", "hung",
                                       "conv_forward_naive"),
    "calls_sys_exit": ("conv_backward or max_pool_forward", "conv_backward_naive", "sys.exit(3)",
                       "max_pool_forward_naive"),
    "calls_os_exit_zero": ("max_pool_backward or conv_forward", "max_pool_backward_naive", "exit status 0",
                           "conv_forward_naive"),
    "segfaults": ("spatial_batchnorm_forward or conv_forward", "spatial_batchnorm_forward", "SIGSEGV",
                  "conv_forward_naive"),
    "raises_keyboard_interrupt": ("spatial_batchnorm_backward or max_pool_forward", "spatial_batchnorm_backward",
                                  "KeyboardInterrupt", "max_pool_forward_naive"),
    "eats_memory": ("spatial_groupnorm_forward or conv_forward", "spatial_groupnorm_forward", "MemoryError",
                    "conv_forward_naive"),
    "syntax_error_in_cnn": ("ThreeLayerConvNet and init or conv_forward", "ThreeLayerConvNet", "SyntaxError",
                            "conv_forward_naive"),
    "raises_at_import": ("max_pool_forward or ThreeLayerConvNet and init", "max_pool_forward_naive",
                         "a module-level bug", "ThreeLayerConvNet"),
    # Its zeros have the wrong shape on the fixtures, the right one on the smallest property-test input.
    "patches_numpy_and_helpers": ("conv_forward or spatial_batchnorm_forward", "conv_forward_naive",
                                  ("has shape", "differs from the expected values"), "spatial_batchnorm_forward"),
    "kills_the_grader": ("max_pool_forward or conv_forward", "max_pool_forward_naive", "grading process was ended",
                         "conv_forward_naive"),
    "slow_on_large_inputs": ("conv_forward and agrees or max_pool_forward", "conv_forward_naive", "too slow",
                             "max_pool_forward_naive"),
}


def results_of(report, part):
    return [t for t in report["tests"] if part in t["tags"]]


@pytest.mark.parametrize("submission", sorted(ATTACKS))
def test_an_attack_costs_only_the_tests_it_hits(tmp_path, submission):
    select, attacked, words, bystander = ATTACKS[submission]
    report = grade_report(HOSTILE / submission, tmp_path, select, FAST)
    hit, spared = results_of(report, attacked), results_of(report, bystander)
    assert hit and spared, "the selection ran no test of the attacked or the bystander part"
    assert all(t["status"] == "failed" and t["score"] == 0 for t in hit), \
        [t["name"] for t in hit if t["status"] == "passed"]
    said = lambda output: any(word in output for word in ((words,) if isinstance(words, str) else words))  # noqa: E731
    assert all(said(t["output"]) for t in hit), [t["output"][:300] for t in hit if not said(t["output"])]
    assert all(t["status"] == "passed" for t in spared), [t["output"][:300] for t in spared]
    assert report["extra_data"]["parts"][bystander]["score"] == report["extra_data"]["parts"][bystander]["max_score"]
    assert not report["extra_data"]["tampering"]


def test_printing_hundreds_of_megabytes_costs_nothing(tmp_path):
    report = grade_report(HOSTILE / "prints_hundreds_of_megabytes", tmp_path, "conv_forward_naive")
    tests = results_of(report, "conv_forward_naive")
    assert tests and all(t["status"] == "passed" for t in tests)
    assert any("printed" in t["output"] and "costs no points" in t["output"] for t in tests)
    assert max(len(t["output"]) for t in tests) < 5000


@pytest.fixture
def project_copy(tmp_path):
    """A copy of the project, for attacks that write into it."""
    copy = tmp_path / "project"
    shutil.copytree(PROJECT, copy, ignore=shutil.ignore_patterns(".git", ".tox", "__pycache__", ".benchmarks"))
    return copy


@pytest.mark.parametrize("submission", ["rewrites_fixtures_and_reports", "reads_answer_key"])
def test_tampering_is_detected_and_scores_zero(tmp_path, project_copy, submission):
    impl = project_copy / "tests" / "selftest" / "implementations" / "hostile" / submission
    report = grade_report(impl, tmp_path, "conv_forward_naive or max_pool_forward_naive", FAST,
                          project=project_copy)
    assert report["extra_data"]["tampering"], "the tampering went unnoticed"
    assert report["score"] == 0 and all(t["score"] == 0 for t in report["tests"])
    assert "TAMPERING DETECTED" in report["output"]


def test_the_report_is_complete_and_follows_gradescopes_schema(tmp_path):
    report = grade_report("answer_key", tmp_path, "conv_forward or max_pool_backward")
    assert set(report) >= {"score", "max_score", "execution_time", "output", "tests", "visibility",
                           "stdout_visibility", "extra_data"}
    assert report["tests"] and report["score"] == pytest.approx(sum(t["score"] for t in report["tests"]), abs=0.01)
    for test in report["tests"]:
        assert set(test) >= {"name", "number", "score", "max_score", "status", "output", "visibility"}
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
        assert test["output_format"] in ("text", "html", "md", "ansi", "simple_format")
    extra = report["extra_data"]
    assert {"harness_version", "python", "numpy", "fixtures_sha256", "seeds"} <= set(extra)
