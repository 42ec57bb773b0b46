"""Batch throughput: how many submissions per hour ``python -m convgrader batch`` grades.

One round (grading is slow and the figure is a rate, not a micro-timing) of
four correct submissions (copies of the answer key), graded in full with
``--jobs 2``. The rate is in the ``extra_info`` of the benchmark's JSON report
(``--benchmark-json``) and printed with the run's summary.
"""

import subprocess
import sys

import pytest
from convgrader.paths import PROJECT

SUBMISSIONS = 4
JOBS = 2


def _grade_writes_results():
    run = subprocess.run([sys.executable, "-m", "convgrader", "grade", "--help"], cwd=PROJECT,
                         capture_output=True, text=True)
    return "--results" in run.stdout


def correct_class(folder, count):
    """``count`` submissions holding copies of the answer key's sources."""
    key = PROJECT / "answer_key"
    for index in range(count):
        impl = folder / f"student{index + 1}" / "student_impl"
        (impl / "classifiers").mkdir(parents=True)
        for name in ("layers.py", "classifiers/cnn.py"):
            (impl / name).write_text((key / name).read_text(encoding="utf-8"), encoding="utf-8")
    return folder


@pytest.mark.skipif(not _grade_writes_results(), reason="`grade --results` has not landed yet")
def test_bench_batch_throughput(benchmark, tmp_path):
    submissions = correct_class(tmp_path / "subs", SUBMISSIONS)
    rounds = iter(range(1, 100))

    def fresh_output():
        # Each round grades into a new folder, so nothing is skipped as graded before.
        out = tmp_path / f"out{next(rounds)}"
        return ([sys.executable, "-m", "convgrader", "batch", str(submissions), "--out", str(out),
                 "--jobs", str(JOBS)],), {}

    def batch(command):
        run = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=3600)
        assert run.returncode == 0, run.stdout + run.stderr
        assert f"{SUBMISSIONS} graded" in run.stdout, run.stdout

    benchmark.pedantic(batch, setup=fresh_output, rounds=1, iterations=1)
    seconds = benchmark.stats.stats.mean
    per_hour = SUBMISSIONS / seconds * 3600
    benchmark.extra_info.update(submissions=SUBMISSIONS, jobs=JOBS, seconds=round(seconds, 1),
                                submissions_per_hour=round(per_hour))
    print(f"\nbatch throughput: {SUBMISSIONS} submissions in {seconds:.1f} s with --jobs {JOBS} "
          f"= {per_hour:.0f} submissions/hour")
