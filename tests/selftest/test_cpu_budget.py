"""A verdict does not depend on how busy the machine is (issue 20).

Budgets are CPU time of the submission, read by the kernel or from outside its
sandbox; wall clocks are backstops whose expiry is the machine's fault.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from convgrader.running import cputime
from tests.selftest.graded_runs import PROJECT, grade_report, outside_xdist

pytestmark = pytest.mark.timeout(900)

ENDLESS_LOOP = "\n    while True:\n        pass\n"


def answer_key_copy(tmp_path, function, body):
    """The answer key with ``body`` put first in ``function`` (after its docstring)."""
    copy = tmp_path / "submission"
    shutil.copytree(PROJECT / "answer_key", copy, ignore=shutil.ignore_patterns("__pycache__"))
    layers = copy / "layers.py"
    text = layers.read_text()
    start = text.index(f"def {function}(")
    docstring_end = text.index('"""', text.index('"""', start) + 3) + 3
    layers.write_text(text[:docstring_end] + body + text[docstring_end:])
    return copy


def test_the_cpu_time_of_a_process_tree_includes_its_children():
    """A worker's children are charged to it, running or reaped, and sleeping is not CPU time."""
    script = ("import os, time\n"
              "def burn(seconds):\n"
              "    end = time.process_time() + seconds\n"
              "    while time.process_time() < end: pass\n"
              "pid = os.fork()\n"
              "if pid == 0:\n"
              "    burn(0.6); os._exit(0)\n"
              "os.waitpid(pid, 0); burn(0.6); time.sleep(30)\n")
    process = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while cputime.tree_usage(process.pid).cpu < 1.1 and time.monotonic() < deadline:
            time.sleep(0.1)
        used = cputime.tree_usage(process.pid)
        time.sleep(1.0)  # asleep now: no more CPU time
        assert 1.1 <= used.cpu <= cputime.tree_usage(process.pid).cpu < used.cpu + 0.3
    finally:
        process.kill()
        process.wait()


def test_an_endless_loop_in_plain_pytest_is_found_once_and_said_shortly(tmp_path):
    """`pytest -k conv_forward` on `while True: pass`: one budget of CPU, then every other test at once."""
    submission = answer_key_copy(tmp_path, "conv_forward_naive", ENDLESS_LOOP)
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "pytest", f"--impl={submission}", "-k", "conv_forward",
                          "-p", "no:cacheprovider", "--lang=en", "--call-timeout=3"],
                         cwd=PROJECT, capture_output=True, text=True, timeout=600, env=outside_xdist())
    elapsed = time.monotonic() - started
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "conv_forward_naive hung: no result after 3 s of CPU time" in output
    assert re.search(r"not run: conv_forward_naive hung in test_conv_forward_naive\S*", output), output
    assert "pytest-timeout" not in output and "Traceback" not in output, output
    assert len(output.splitlines()) < 40, output
    assert re.search(r"(\d+) failed", output) and int(re.search(r"(\d+) failed", output)[1]) >= 10
    # 3 s of CPU for the first test, at most 10 for the probe, the rest at once (generous for a busy machine).
    assert elapsed < 300, elapsed


def test_the_same_loop_in_russian(tmp_path):
    submission = answer_key_copy(tmp_path, "conv_forward_naive", ENDLESS_LOOP)
    run = subprocess.run([sys.executable, "-m", "pytest", f"--impl={submission}", "-k", "conv_forward_naive and float32",
                          "-p", "no:cacheprovider", "--lang=ru", "--call-timeout=2"],
                         cwd=PROJECT, capture_output=True, text=True, timeout=600, env=outside_xdist())
    assert "с процессорного времени" in run.stdout, run.stdout


def test_pytest_timeout_in_a_sandboxed_run_is_the_machines_fault(tmp_path):
    """With --isolate every call is bounded in CPU time: a test's wall-clock timeout is not the student's."""
    submission = answer_key_copy(tmp_path, "conv_forward_naive", "\n    import time; time.sleep(30)\n")
    results = tmp_path / "results.json"
    run = subprocess.run([sys.executable, "-m", "convgrader", "grade", "--impl", str(submission), "--results",
                          str(results), "--call-timeout", "100", "-k", "conv_forward_naive and float32",
                          "--timeout", "2"], cwd=PROJECT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 2, run.stdout[-2000:] + run.stderr[-2000:]
    report = json.loads(results.read_text())
    assert report["extra_data"]["status"] == "grading failed", report["extra_data"]
    assert "could not run twice" in report["extra_data"]["reason"]
    assert report["tests"] == []


def burners(count):
    """``count`` processes that burn CPU until killed."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def test_correct_code_keeps_full_marks_on_a_loaded_machine(tmp_path):
    """Twice as many CPU-burning processes as cores, started here, beside grade of the answer key."""
    running = burners(2 * (os.cpu_count() or 1))
    try:
        report = grade_report("answer_key", tmp_path)
    finally:
        for process in running:
            process.kill()
            process.wait()
    assert report["extra_data"]["status"] == "graded", report["extra_data"].get("reason")
    lost = [(t["name"], t["output"][:300]) for t in report["tests"] if t["status"] != "passed"]
    assert not lost and report["score"] >= report["max_score"] > 0, lost
    timings = report["extra_data"]["timings"]
    assert 0 < timings["cpu_time"] and 0 < timings["wall_time"]
