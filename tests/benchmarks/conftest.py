"""What ``pytest --benchmark-only`` shows: one short table of naive against fast.

pytest-benchmark's own report is one table per group, about 240 columns wide,
with the speedup hidden in brackets. For the layers of ``test_bench_layers.py``
this module prints instead, at the very end::

    naive against fast layers (medians)
    layer                        naive        fast   times faster
    conv_forward_naive          612 ms     1.94 ms            315

and keeps pytest-benchmark's tables only for the other benchmarks of the run
(PyTorch, batch throughput), or for all when ``--benchmark-columns`` is given
(an explicit request for its tables). Also here, so that a student's run is
short and says nothing that does not concern it:

- the graded tests are deselected under ``--benchmark-only`` (rather than 100
  "Skipping non-benchmark" lines);
- ``test_bench_torch.py`` is collected only where PyTorch is installed;
- ``test_bench_batch.py`` (a minute of grading whole submissions, and it needs
  the answer key) and ``test_bench_peak.py`` (the fast convolution against the
  machine's peak, for instructors; ``tox -e bench`` names it) only when named
  on the command line.
"""

import importlib.util
from pathlib import Path

import pytest
from pytest_benchmark.plugin import pytest_benchmark_group_stats as grouped_by_pytest_benchmark

from convgrader.messages import say
from tests.benchmarks.test_bench_layers import LAYERS

HERE = Path(__file__).resolve().parent
TORCH_FILE, BATCH_FILE, LAYERS_FILE = "test_bench_torch.py", "test_bench_batch.py", "test_bench_layers.py"
PEAK_FILE = "test_bench_peak.py"
TABLE_WIDTH = 64


def _named_on_command_line(config, path):
    return any(Path(arg.split("::")[0]).resolve() == path for arg in config.args)


def pytest_ignore_collect(collection_path, config):
    if collection_path.parent != HERE:
        return None
    if collection_path.name == TORCH_FILE and importlib.util.find_spec("torch") is None:
        return True
    if collection_path.name in (BATCH_FILE, PEAK_FILE) and not _named_on_command_line(config, collection_path):
        return True
    return None


def pytest_collection_modifyitems(config, items):
    """Under --benchmark-only, drop what is not a benchmark instead of skipping it line by line."""
    if not config.getoption("benchmark_only", False):
        return
    kept = [item for item in items if "benchmark" in getattr(item, "fixturenames", ())]
    dropped = [item for item in items if "benchmark" not in getattr(item, "fixturenames", ())]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _explicit_columns(config):
    """True when ``--benchmark-columns`` was typed: the user wants pytest-benchmark's tables."""
    return any(arg.startswith("--benchmark-columns") for arg in config.invocation_params.args)


@pytest.hookimpl(tryfirst=True)
def pytest_benchmark_group_stats(config, benchmarks, group_by):
    """pytest-benchmark's grouping, minus the benchmarks the short table reports."""
    if _explicit_columns(config):
        return None
    others = [bench for bench in benchmarks if f"/{LAYERS_FILE}::" not in "/" + bench["fullname"]]
    return grouped_by_pytest_benchmark(config, others, group_by) if others else []


# -- the short table -----------------------------------------------------------------------------

class SpeedTable:
    """Medians of the naive and fast side of each layer, and why a side was not timed."""

    def __init__(self):
        self.seconds = {}   # (layer, which) -> median seconds
        self.missing = {}   # layer -> "implement ... first"

    def record(self, item, report):
        params = getattr(getattr(item, "callspec", None), "params", {})
        layer, which = params.get("layer"), params.get("which")
        if item.path.name != LAYERS_FILE or layer is None:
            return
        if report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            self.missing[layer] = reason.removeprefix("Skipped: ")
        elif report.passed and report.when == "call":
            fixture = item.funcargs.get("benchmark")
            if fixture is not None and fixture.stats is not None:
                self.seconds[(layer, which)] = fixture.stats.stats.median

    def lines(self):
        rows = [f"{say('bench_layer'):<26}{say('bench_naive'):>12}{say('bench_fast'):>12}{say('bench_times'):>14}"]
        for layer in LAYERS:
            naive, fast = self.seconds.get((layer, "naive")), self.seconds.get((layer, "fast"))
            if naive is None and fast is None and layer not in self.missing:
                continue  # not selected in this run (-k)
            speedup = f"{naive / fast:,.0f}" if naive and fast else "-"
            rows.append(f"{layer:<26}{_duration(naive):>12}{_duration(fast):>12}{speedup:>14}")
            if naive is None and layer in self.missing:
                rows.append(f"  {self.missing[layer]}")
        return rows


def _duration(seconds):
    """A time in the unit that gives it three significant digits: ``612 ms``, ``1.94 ms``, ``2.31 s``."""
    if seconds is None:
        return "-"
    for unit, scale in ((say("unit_s"), 1.0), (say("unit_ms"), 1e-3), (say("unit_us"), 1e-6)):
        if seconds >= scale:
            break
    value = seconds / scale
    decimals = 0 if value >= 100 else 1 if value >= 10 else 2
    return f"{value:,.{decimals}f} {unit}"


_TABLE = SpeedTable()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    _TABLE.record(item, report)
    return report


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, config):
    if not config.getoption("benchmark_only", False) or not (_TABLE.seconds or _TABLE.missing):
        return
    terminalreporter.write_sep("=", say("bench_title"), fullwidth=TABLE_WIDTH)
    for line in _TABLE.lines():
        terminalreporter.write_line(line)
    terminalreporter.write_line(say("bench_shapes"))
    if _only_layer_skips(terminalreporter):
        # The table said why; pytest's "short test summary" (-ra) would say it again, wider.
        terminalreporter.reportchars = terminalreporter.reportchars.replace("s", "")


def _only_layer_skips(terminalreporter):
    skipped = terminalreporter.stats.get("skipped", [])
    return all(Path(str(report.fspath)).name == LAYERS_FILE for report in skipped)
