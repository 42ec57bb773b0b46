"""Grading survives hostile submissions: each attack costs only the tests it hits.

Every submission here (tests/selftest/implementations/hostile/) is graded with
``python -m convgrader grade``, restricted to the attacked parts and one
bystander part, which must keep full marks; the report must be complete and
say what happened, the harness must be unchanged, and no process the
submission started may outlive its grading.

Each is graded from a copy outside the project, as a student's submission
would be (inside the project, the self-tests' own implementations are trusted
with the answer key: see ``convgrader.running.isolation.is_trusted``); the
copy carries the honest code it builds on (``../vectorized/``) as files of its
own. The attacks run at the strongest isolation this machine offers
(namespaces under bubblewrap in CI); those that only the namespaces stop are
skipped, saying why, where bwrap cannot run.
"""

import hashlib
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from convgrader import limits
from convgrader.running import cgroups, isolation, native_code, sandbox, worker
from tests.selftest.graded_runs import IMPLEMENTATIONS, PROJECT, grade_report

HOSTILE = IMPLEMENTATIONS / "hostile"
VECTORIZED = IMPLEMENTATIONS / "vectorized"
#: Short bounds keep the self-test quick; hangs are told from slowness all the same.
FAST = ("--call-timeout", "5")
LEVEL = isolation.available_level()
needs_namespaces = pytest.mark.skipif(
    LEVEL != isolation.NAMESPACES,
    reason="only the namespaces level stops this attack, and bubblewrap cannot create namespaces on this "
           "machine (Debian: apt-get install bubblewrap; CI has it)")
needs_cgroups = pytest.mark.skipif(
    cgroups._layout() is None,
    reason="a worker's task and memory caps over all its processes need a control group, which only a grader "
           "running as root can make (CI grades as root)")
#: Rewrites of the hostile sources' imports of the honest code, to the copy's own files.
HONEST_IMPORTS = {
    "layers.py": {"from tests.selftest.implementations.vectorized.layers import": "from .honest_layers import",
                  "from tests.selftest.implementations.vectorized import layers as":
                      "from . import honest_layers as"},
    "cnn.py": {"from tests.selftest.implementations.vectorized.classifiers.cnn import": "from .honest_cnn import"},
}


def untrusted_copy(submission, tmp_path, source=None):
    """A copy of a hostile submission outside the project, carrying its honest code with it."""
    copy = tmp_path / "submissions" / submission
    shutil.copytree(source or HOSTILE / submission, copy)
    shutil.copy(VECTORIZED / "layers.py", copy / "honest_layers.py")
    honest_cnn = (VECTORIZED / "classifiers" / "cnn.py").read_text()
    (copy / "classifiers").mkdir(exist_ok=True)
    (copy / "classifiers" / "honest_cnn.py").write_text(honest_cnn.replace("from ..layers import",
                                                                           "from ..honest_layers import"))
    for path in (copy / "layers.py", copy / "classifiers" / "cnn.py"):
        if path.exists():
            text = path.read_text()
            for old, new in HONEST_IMPORTS[path.name].items():
                text = text.replace(old, new)
            path.write_text(text)
    return copy


def processes_mentioning(*needles):
    """Command lines of live processes that mention any of ``needles``."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if entry.isdigit() and int(entry) != os.getpid() and any(n in command for n in needles):
            found.append(f"{entry}: {command[:200]}")
    return found


def assert_nothing_outlives(*needles, grace=10):
    """No process mentioning ``needles`` is left (a killed one may take a moment to go)."""
    end = time.time() + grace
    while processes_mentioning(*needles) and time.time() < end:
        time.sleep(0.2)
    assert not processes_mentioning(*needles), processes_mentioning(*needles)


def harness_digest(project=PROJECT):
    """sha256 over the harness's files and every .pth file of the interpreter's site-packages."""
    import site

    digest = hashlib.sha256()
    for path in sorted((project / "convgrader").rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(project)).encode() + path.read_bytes())
    for folder in site.getsitepackages() + [site.getusersitepackages()]:
        for path in sorted(Path(folder).glob("*.pth")):
            digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


def grade_hostile(submission, tmp_path, select, extra_args=FAST, project=PROJECT):
    """Grade an untrusted copy of ``submission``; check that nothing of it outlives the grading."""
    copy = untrusted_copy(submission, tmp_path)
    report = grade_report(copy, tmp_path, select, extra_args, project=project)
    assert_nothing_outlives(str(copy), isolation.inside_path(copy))
    return report


def assert_costs_only(report, attacked, bystanders):
    """Every test of the ``attacked`` parts fails saying one of their words; the bystanders keep full marks."""
    for part, words in attacked.items():
        hit = results_of(report, part)
        assert hit, f"no test of {part} ran"
        assert all(t["status"] == "failed" and t["score"] == 0 for t in hit), \
            [t["name"] for t in hit if t["status"] == "passed"]
        words = (words,) if isinstance(words, str) else words
        assert all(any(w in t["output"] for w in words) for t in hit), \
            [t["output"][:300] for t in hit if not any(w in t["output"] for w in words)]
    for part in bystanders:
        spared = results_of(report, part)
        assert spared and all(t["status"] == "passed" for t in spared), [t["output"][:300] for t in spared]
        info = report["extra_data"]["parts"][part]
        assert info["score"] == info["max_score"]

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
    # Under namespaces its parent is the sandbox's init, which ignores the signal: the call returns None.
    "kills_the_grader": ("max_pool_forward or conv_forward", "max_pool_forward_naive",
                         ("grading process was ended", "None"), "conv_forward_naive"),
    "slow_on_large_inputs": ("conv_forward and agrees or max_pool_forward", "conv_forward_naive", "too slow",
                             "max_pool_forward_naive"),
}


def results_of(report, part):
    return [t for t in report["tests"] if part in t["tags"]]


@pytest.mark.parametrize("submission", sorted(ATTACKS))
def test_an_attack_costs_only_the_tests_it_hits(tmp_path, submission):
    select, attacked, words, bystander = ATTACKS[submission]
    report = grade_hostile(submission, tmp_path, select)
    assert_costs_only(report, {attacked: words}, [bystander])
    assert not report["extra_data"]["tampering"]
    assert report["extra_data"]["isolation"] == LEVEL


def test_printing_hundreds_of_megabytes_costs_nothing(tmp_path):
    report = grade_hostile("prints_hundreds_of_megabytes", tmp_path, "conv_forward_naive", ())
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
    impl = untrusted_copy(submission, tmp_path)
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


# -- naive means naive (both levels: the layer functions' worker has no fast code and loads none) -----

@pytest.mark.parametrize("level", sorted({LEVEL, isolation.PROCESS}))
def test_the_fast_layers_refuse_to_work_for_a_naive_function(tmp_path, level):
    report = grade_hostile("uses_fast_layers_in_naive", tmp_path,
                           "conv_forward or max_pool or spatial_batchnorm_forward", FAST + ("--isolation", level))
    assert_costs_only(report, {
        "conv_forward_naive": "conv_forward_naive must compute the convolution itself; it called the provided "
                              "conv_forward_fast",
        "max_pool_backward_naive": "max_pool_backward_naive must compute the max pooling's gradient itself; it "
                                   "called the provided max_pool_forward_fast"},
        ["max_pool_forward_naive", "spatial_batchnorm_forward"])
    assert report["extra_data"]["isolation"] == level


# -- naive by the file system: no route from a layer function reaches fast code ------------------------

def ship_fast_code(copy):
    """Put beside a submission what a student could ship: the kernels' .so and the fast layers' source."""
    import importlib.util

    shutil.copy(importlib.util.find_spec("fast_ext._kernels").origin, copy / "shipped_kernels.so")
    shutil.copy(PROJECT / "reference" / "fast_layers.py", copy / "shipped_fast_layers.py")


ROUTES = {"forwards_reach_for_fast_code": ("conv_forward or max_pool_forward or spatial_batchnorm_forward",
                                           ["conv_forward_naive", "max_pool_forward_naive"]),
          "backwards_reach_for_fast_code": ("conv_backward or max_pool_backward or spatial_batchnorm_forward",
                                            ["conv_backward_naive", "max_pool_backward_naive"])}


@pytest.mark.skipif(not native_code.supported(), reason="the filter on native code covers x86-64 Linux only")
@pytest.mark.parametrize("level", sorted({LEVEL, isolation.PROCESS}))
@pytest.mark.parametrize("submission", sorted(ROUTES))
def test_no_route_from_a_layer_function_reaches_fast_code(tmp_path, submission, level):
    """Closures, sys.modules, gc, a child interpreter, a copied or shipped .so: each finds nothing, at both levels."""
    select, attacked = ROUTES[submission]
    copy = untrusted_copy(submission, tmp_path)
    ship_fast_code(copy)
    report = grade_report(copy, tmp_path, select, FAST + ("--isolation", level))
    assert_nothing_outlives(str(copy), isolation.inside_path(copy))
    assert_costs_only(report, {part: "found no fast code" for part in attacked}, ["spatial_batchnorm_forward"])
    assert report["extra_data"]["isolation"] == level


def test_the_model_keeps_the_fast_layers(tmp_path):
    """ThreeLayerConvNet's worker has the provided fast and sandwich layers, as the assignment intends."""
    report = grade_hostile("uses_fast_layers_in_naive", tmp_path, "ThreeLayerConvNet and loss or conv_forward", FAST)
    assert_costs_only(report, {"conv_forward_naive": "conv_forward_naive must compute the convolution itself"},
                      ["ThreeLayerConvNet"])


# -- the sandbox's own walls ---------------------------------------------------------------------------

@needs_namespaces
def test_dev_shm_dev_and_nested_user_namespaces_are_closed(tmp_path):
    if not isolation.disables_userns():
        pytest.skip("this bubblewrap has no --disable-userns (before 0.8): nested user namespaces stay possible")
    report = grade_hostile("tests_the_sandbox_walls", tmp_path, "spatial_batchnorm or conv_forward", FAST)
    assert_costs_only(report, {}, ["spatial_batchnorm_forward", "spatial_batchnorm_backward", "conv_forward_naive"])


@needs_cgroups
@pytest.mark.parametrize("level", sorted({LEVEL, isolation.PROCESS}))
def test_fork_and_thread_bombs_stop_at_the_workers_task_cap(tmp_path, level):
    report = grade_hostile("tests_the_sandbox_walls", tmp_path, "spatial_groupnorm_forward or conv_forward",
                           FAST + ("--isolation", level))
    assert_costs_only(report, {}, ["spatial_groupnorm_forward", "conv_forward_naive"])


@needs_cgroups
def test_a_workers_children_share_its_memory_cap(tmp_path):
    """Four children of 600 MB each do not fit in a worker capped at 1.5 GB: one is refused or killed."""
    copy = untrusted_copy("tests_the_sandbox_walls", tmp_path)
    box = sandbox.Sandbox(str(copy), "walls", memory_bytes=1536 << 20, role=isolation.LAYERS, call_timeout=120)
    x = np.random.RandomState(0).randn(2, 4, 3, 3)
    gamma, beta = np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1))
    try:
        _, cache = box.get("spatial_groupnorm_forward").for_cache(x, gamma, beta, 2, {})
        groups = box.group.folders
        try:
            dx, _, _ = box.get("spatial_groupnorm_backward")(np.ones_like(x), cache)
            assert dx.shape == x.shape
        except sandbox.SubmissionFailure as failure:  # the worker itself was the one killed: fine too
            assert "WALL BROKEN" not in str(failure), str(failure)
    finally:
        box.stop()
    assert not any(folder.exists() for folder in groups), "the worker's control group was left behind"


def test_a_refused_forward_does_not_cost_its_backward(tmp_path):
    """The backward's tests take their cache from the student's forward, outside the rule the forward broke."""
    report = grade_hostile("peeks_at_fast_in_forward", tmp_path, "conv_forward or conv_backward")
    assert_costs_only(report, {"conv_forward_naive": "conv_forward_naive must compute the convolution itself"},
                      ["conv_backward_naive"])


def test_forbidden_imports_cost_only_the_functions_that_use_them(tmp_path):
    report = grade_hostile("imports_forbidden_code", tmp_path,
                           "conv_forward or max_pool_forward or spatial_batchnorm_forward or "
                           "spatial_groupnorm_forward or ThreeLayerConvNet and init")
    rule = "may import numpy, the Python standard library and the provided course code (reference) only"
    assert_costs_only(report, {"conv_forward_naive": [rule, "it imported scipy"],
                               "max_pool_forward_naive": [rule, "it imported fast_ext"],
                               "spatial_batchnorm_forward": [rule, "it imported tests.selftest"]},
                      ["spatial_groupnorm_forward", "ThreeLayerConvNet"])


# -- what only the operating system's isolation stops -------------------------------------------------

@needs_namespaces
def test_the_answer_key_is_out_of_reach_without_open(tmp_path):
    report = grade_hostile("reads_key_without_open", tmp_path, "conv_forward_naive or max_pool_forward_naive")
    assert all(t["score"] == 0 for t in results_of(report, "conv_forward_naive"))
    if not report["extra_data"]["tampering"]:  # caught trying: all zero, which is fine too
        assert_costs_only(report, {"conv_forward_naive": "no way to the answer key"}, ["max_pool_forward_naive"])


@needs_namespaces
def test_the_graders_process_and_files_are_out_of_reach(tmp_path):
    report = grade_hostile("reads_grader_memory", tmp_path, "conv_forward_naive or max_pool_forward_naive")
    assert_costs_only(report, {"conv_forward_naive": "out of reach"}, ["max_pool_forward_naive"])


@needs_namespaces
def test_the_harness_cannot_be_changed(tmp_path, project_copy, monkeypatch):
    # As batch grades: the grader's own processes write no bytecode, so any change is the submission's.
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    before = harness_digest(project_copy)
    report = grade_hostile("poisons_the_harness", tmp_path, "conv_forward_naive", project=project_copy)
    poisoned = [p for p in map(Path, __import__("site").getsitepackages()) if (p / "convgrader_selftest_poison.pth").exists()]
    for folder in poisoned:  # the attack got through: undo it before failing
        (folder / "convgrader_selftest_poison.pth").unlink()
    assert not poisoned and harness_digest(project_copy) == before
    # The attempt itself is seen too: opening the harness for writing is tampering.
    assert any("convgrader/judging" in event for event in report["extra_data"]["tampering"]), \
        report["extra_data"]["tampering"]


@needs_namespaces
def test_other_submissions_are_out_of_reach(tmp_path):
    select = "conv_forward or max_pool_forward"
    reports = {}

    def grade(name, source):
        copy = untrusted_copy(name, tmp_path / name, source)
        reports[name] = grade_report(copy, tmp_path / name, select, FAST)

    (tmp_path / "attacker").mkdir(), (tmp_path / "neighbour").mkdir()
    attacker = threading.Thread(target=grade, args=("attacker", HOSTILE / "attacks_other_submissions"))
    attacker.start()
    time.sleep(3)  # the neighbour starts while the attacker's daemon runs
    grade("neighbour", VECTORIZED)
    attacker.join()
    for name in ("attacker", "neighbour"):
        assert_costs_only(reports[name], {}, ["conv_forward_naive", "max_pool_forward_naive"])
    # The daemon is a fork of the attacker's worker: its command line names the attacker's folder.
    attacker = tmp_path / "attacker" / "submissions" / "attacker"
    assert_nothing_outlives(str(attacker), isolation.inside_path(attacker))


@needs_namespaces
def test_the_graders_environment_is_not_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVGRADER_SELFTEST_TOKEN", "ghp_selftest_secret_0123456789")
    report = grade_hostile("prints_environment", tmp_path, "conv_forward_naive", ())
    assert_costs_only(report, {}, ["conv_forward_naive"])
    printed = " ".join(t["output"] for t in report["tests"])
    assert "PATH" in printed and "ghp_selftest_secret" not in printed


# -- the channel: bounded in time and size --------------------------------------------------------------

def test_a_half_sent_reply_is_a_timeout_of_that_call_only(tmp_path):
    started = time.time()
    report = grade_hostile("half_sent_reply", tmp_path, "max_pool_forward or conv_forward")
    assert_costs_only(report, {"max_pool_forward_naive": ("hung", "too slow")}, ["conv_forward_naive"])
    assert time.time() - started < 600


def test_huge_replies_are_refused_unread(tmp_path):
    # Encoding 400 MB takes the worker a few seconds on a busy machine: a longer call bound.
    report = grade_hostile("huge_replies", tmp_path, "spatial_batchnorm_forward or max_pool_forward or conv_forward",
                           ("--call-timeout", "60"))
    assert_costs_only(report, {"spatial_batchnorm_forward": "sent back 400 MB, more than the",
                               "max_pool_forward_naive": "more than the"}, ["conv_forward_naive"])


# -- infrastructure is never the student's fault -----------------------------------------------------------

def test_a_sandbox_that_cannot_start_is_grading_failed_not_a_zero(monkeypatch):
    monkeypatch.setattr(worker, "BOOTSTRAP", "import os; os._exit(3)")
    monkeypatch.setattr(limits, "STARTUP_BACKOFF", 0.01)
    box = sandbox.Sandbox(str(VECTORIZED), "vectorized")
    with pytest.raises(sandbox.GradingFailed, match="grading failed: the sandbox could not start") as raised:
        box.get("conv_forward_naive")
    assert not isinstance(raised.value, sandbox.SubmissionFailure)
    assert raised.value.reason.count("exit status 3") == limits.STARTUP_ATTEMPTS


def test_the_isolation_level_is_reported_and_can_be_forced(tmp_path):
    report = grade_report("answer_key", tmp_path, "conv_forward_naive", ("--isolation", "process"))
    assert report["extra_data"]["isolation"] == "process"
    assert report["tests"] and all(t["status"] == "passed" for t in report["tests"])


# -- the mechanisms, one by one ---------------------------------------------------------------------------

FILTERED = r"""
import ctypes, mmap, os, sys, threading
sys.path[:0] = [sys.argv[1]]
from convgrader.running import native_code
native_code.preload()
assert native_code.forbid_new_native_code()
refused = []
def attempt(name, action):
    try:
        action()
    except OSError:
        refused.append(name)
attempt("mmap_exec", lambda: mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_EXEC))
attempt("memfd", lambda: os.memfd_create("code"))
attempt("dlopen", lambda: ctypes.CDLL(sys.argv[2]))
attempt("exec", lambda: os.execv("/bin/true", ["/bin/true"]))
mmap.mmap(-1, 4096)  # plain memory, threads and the preloaded modules still work
thread = threading.Thread(target=lambda: None)
thread.start(), thread.join()
import math, numpy.linalg
print(",".join(refused), math.sqrt(4.0))
"""


@pytest.mark.skipif(not native_code.supported(), reason="the filter on native code covers x86-64 Linux only")
def test_the_native_code_filter_refuses_every_way_to_load_code():
    import importlib.util
    import subprocess
    import sys

    kernels = importlib.util.find_spec("fast_ext._kernels").origin
    run = subprocess.run([sys.executable, "-I", "-c", FILTERED, str(PROJECT), kernels],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["mmap_exec,memfd,dlopen,exec", "2.0"]


def test_a_sandbox_sees_the_submissions_python_source_only(tmp_path):
    submission = tmp_path / "submission"
    (submission / "classifiers").mkdir(parents=True)
    (submission / "layers.py").write_text("x = 1\n")
    (submission / "classifiers" / "cnn.py").write_text("y = 2\n")
    (submission / "kernels.so").write_bytes(b"\x7fELF")
    (submission / "secret.py").symlink_to(PROJECT / "answer_key" / "layers.py")
    (submission / "linked").symlink_to(PROJECT / "answer_key", target_is_directory=True)
    staged = Path(sandbox.stage_python_source(str(submission)))
    try:
        assert sorted(str(p.relative_to(staged)) for p in staged.rglob("*")) == \
            ["classifiers", "classifiers/cnn.py", "layers.py"]
    finally:
        shutil.rmtree(staged)
