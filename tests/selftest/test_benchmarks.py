"""Self-test of what a student sees from ``pytest --benchmark-only`` (tests/benchmarks/conftest.py).

The command is run as a student types it, from the project root, in a fresh
process: on the skeleton (nothing written: the naive side is skipped with
"implement ... first") and on the answer key's convolution forward alone (a
real speedup in the table). What it prints must end with the one short table,
fit 100 columns from the table on, and say nothing about PyTorch or the graded
tests. The student release must not ship a benchmark that needs the answer key.
"""

import ast
import importlib.util
import re
import subprocess
import sys

import pytest

from convgrader.course import release
from convgrader.paths import PROJECT
from tests.selftest.graded_runs import outside_xdist

TABLE_TITLE = "naive against fast layers (medians)"
MAX_COLUMNS = 100


def benchmark_run(*arguments):
    run = subprocess.run([sys.executable, "-m", "pytest", "--benchmark-only", "-p", "no:cacheprovider",
                          *arguments], cwd=PROJECT, capture_output=True, text=True, timeout=600,
                         env=outside_xdist())
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return run.stdout


def table_and_after(output):
    """The lines from the short table's title to the end of the output."""
    lines = output.splitlines()
    starts = [i for i, line in enumerate(lines) if TABLE_TITLE in line]
    assert len(starts) == 1, output[-3000:]
    return lines[starts[0]:]


def test_skeleton_run_is_one_short_table_with_what_to_implement():
    output = benchmark_run()
    tail = table_and_after(output)
    assert max(len(line) for line in tail) <= MAX_COLUMNS, "\n".join(tail)
    assert re.match(r"=+ \d+ passed, 4 skipped, \d+ deselected in ", tail[-1]), tail[-1]
    for layer, missing in (("conv_forward_naive", "conv_forward_naive"),
                           ("conv_backward_naive", "conv_forward_naive"),
                           ("max_pool_forward_naive", "max_pool_forward_naive"),
                           ("max_pool_backward_naive", "max_pool_forward_naive")):
        row = next(line for line in tail if line.startswith(layer + " "))
        assert row.split()[1] == "-" and row.split()[-1] == "-", row  # no naive time, no speedup
        assert f"implement {missing} first" in tail[tail.index(row) + 1]
    assert "Skipping non-benchmark" not in output
    assert "short test summary" not in output  # the table already says why each side is missing
    assert "benchmark 'conv" not in output and "Name (time in" not in output  # no pytest-benchmark tables
    if importlib.util.find_spec("torch") is None:
        assert "torch" not in output.lower()


def test_written_layer_gets_its_speedup():
    output = benchmark_run("--impl=answer_key", "-k", "conv_forward")
    tail = table_and_after(output)
    row = next(line for line in tail if line.startswith("conv_forward_naive "))
    naive, naive_unit, fast, fast_unit, speedup = row.split()[1:]
    scale = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
    ratio = float(naive) * scale[naive_unit] / (float(fast) * scale[fast_unit])
    assert float(speedup.replace(",", "")) == pytest.approx(ratio, rel=0.02)
    assert ratio > 10  # the seed's loops against im2col; the speedup self-test holds it to more
    assert not any(line.startswith(("conv_backward", "max_pool")) for line in tail)  # not selected


def _imports_answer_key(source):
    for node in ast.walk(ast.parse(source)):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if any(name == "answer_key" or name.startswith("answer_key.") for name in names):
            return True
    return False


def test_student_release_ships_no_code_that_needs_the_answer_key():
    contents = release.student_contents(PROJECT)
    needing = [path for path, data in contents.items()
               if path.endswith(".py") and _imports_answer_key(data.decode("utf-8"))]
    assert needing == []
    assert "tests/benchmarks/test_bench_layers.py" in contents
    assert "tests/benchmarks/conftest.py" in contents
