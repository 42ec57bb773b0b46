"""The terminal's tally of a plain pytest run: failures grouped by part, the table of parts."""

import re
from collections import Counter, defaultdict

import pytest

from convgrader import limits, untrusted
from convgrader.assignment import PARTS
from convgrader.judging.keys import FAILURE_GROUP
from convgrader.judging.points import declared
from convgrader.messages import say
from convgrader.untrusted import shown

#: Names listed in one "failed the same way" line.
NAMES_SHOWN = 4


def _test_name(report):
    return report.nodeid.split("::")[-1]


class PartTally:
    """Counts test outcomes per (implementation, graded part), and keeps a plain pytest run short.

    The part of a test is found where the test runs (``makereport``, in an xdist
    worker too) and travels on the report, so the process that prints (the xdist
    controller, or the only one) counts from ``pytest_runtest_logreport``. Each
    test counts once, as ``grade`` counts it: its call, or the setup that failed
    or skipped; a skipped test that carries no points (CIFAR-10) is left out,
    and its reason is said once.

    With the default ``--tb`` (and outside ``--selftest``), failures whose message
    the harness wrote are printed grouped by part, the same failure once, instead
    of pytest's sections and ``FAILED`` lines; harness errors keep pytest's
    traceback. The table of parts is printed last, after pytest's own summary line.
    """

    def __init__(self, config):
        self.config = config
        self.outcomes = defaultdict(Counter)
        self.failures = defaultdict(list)  # (label, part) -> [(test name, group, message)]
        self.skips = Counter()  # reason -> count
        self.taken = {}  # what was lifted out of the terminal reporter's stats, put back for the final count
        # The benchmarks end with their own table, which says why a side was skipped.
        self.compact = (config.getoption("tbstyle", "auto") == "auto" and not config.getoption("selftest")
                        and not config.getoption("benchmark_only", False))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        part, _, scored = declared(item)
        counted = report.when == "call" or (report.when == "setup" and not report.passed)
        if part is not None and counted:
            impl = getattr(item, "callspec", None) and item.callspec.params.get("impl")
            report.convgrader_part = part
            report.convgrader_scored = scored
            report.convgrader_impl = impl.label if impl else ""
            excinfo = call.excinfo
            if report.failed and excinfo is not None and isinstance(excinfo.value, pytest.fail.Exception) \
                    and not excinfo.value.pytrace:
                report.convgrader_group = item.stash.get(FAILURE_GROUP, report.longreprtext)
        return report

    def pytest_runtest_logreport(self, report):
        part = getattr(report, "convgrader_part", None)
        if part is None:
            if report.skipped and self.compact:
                self.skips[_skip_reason(report)] += 1
            return
        if report.skipped and not report.convgrader_scored:
            self.skips[_skip_reason(report)] += 1
            return
        key = (report.convgrader_impl, part)
        self.outcomes[key][report.outcome] += 1
        if report.skipped and self.compact:
            self.skips[_skip_reason(report)] += 1
        group = getattr(report, "convgrader_group", None)
        if report.failed and group is not None:
            self.failures[key].append((_test_name(report), group, _message_text(report) + _printed(report)))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter):
        if self.compact:
            self._lift(terminalreporter)
        try:
            return (yield)
        finally:
            if self.compact:
                self._write_failures(terminalreporter)
                self._write_skips(terminalreporter)
                self._put_back(terminalreporter)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session):
        result = yield
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and not hasattr(self.config, "workerinput"):
            self._write_table(reporter)
        return result

    def _lift(self, reporter):
        """Take the reports this plugin prints itself out of pytest's FAILURES section and -ra lines."""
        for kind in ("failed", "skipped"):
            kept, taken = [], []
            for report in reporter.stats.get(kind, []):
                mine = (getattr(report, "convgrader_group", None) is not None if kind == "failed"
                        else getattr(report, "when", None) is not None)
                (taken if mine else kept).append(report)
            if taken:
                reporter.stats[kind] = kept
                self.taken[kind] = taken
        if reporter.stats.get("failed"):
            reporter.write_line(say("harness_error"), yellow=True)

    def _put_back(self, reporter):
        for kind, taken in self.taken.items():
            reporter.stats.setdefault(kind, []).extend(taken)
        self.taken = {}

    def _write_failures(self, reporter):
        if not self.failures:
            return
        reporter.ensure_newline()
        reporter.section(say("failures_title"), red=True, bold=True)
        for label, part in self._keys():
            failures = self.failures.get((label, part))
            if not failures:
                continue
            groups = defaultdict(list)
            for name, group, message in failures:
                groups[group].append((name, message))
            shown = list(groups.values())
            if self.config.getoption("verbose") <= 0:
                hidden, shown = shown[limits.FAILURES_SHOWN_PER_PART:], shown[:limits.FAILURES_SHOWN_PER_PART]
            else:
                hidden = []
            for members in shown:
                (first, message), others = members[0], [name for name, _ in members[1:]]
                title = f"{label}: {first}" if label else first
                reporter.write_sep("_", title, red=True, bold=True)
                reporter.write_line(message)
                if others:
                    reporter.write_line(say("same_failure", count=len(others), part=part,
                                            names=_names(others)))
            if hidden:
                names = [name for members in hidden for name, _ in members]
                reporter.write_line(say("more_failures", count=len(names), part=part, names=_names(names)))

    def _write_skips(self, reporter):
        for reason, count in self.skips.items():
            reporter.write_line(say("skipped_reason", count=count, reason=reason), yellow=True)

    def _keys(self):
        labels = sorted({label for label, _ in self.outcomes} | {label for label, _ in self.failures})
        return [(label, part) for label in labels for part in PARTS]

    def _write_table(self, reporter):
        if not self.outcomes:
            return
        labels = sorted({label for label, _ in self.outcomes})
        reporter.ensure_newline()
        reporter.section(say("table_title"))
        marks = {kind: say(f"table_mark_{kind}") for kind in ("ok", "fail", "skip")}
        width = max(map(len, marks.values()))
        for label in labels:
            if label:
                reporter.write_line(f"{label}:")
            for part in PARTS:
                counts = self.outcomes.get((label, part))
                if counts:
                    reporter.write_line("  " + _summary_line(part, counts, marks, width))


def _message_text(report):
    """The failure message, without the ``[gw0] linux -- Python ...`` line xdist puts before it."""
    lines = report.longreprtext.strip().splitlines()
    return "\n".join(line for line in lines if not re.match(r"\[gw\d+\] ", line))


def _printed(report):
    """What the submission printed during a failed test, as lines to show under its message, or "".

    pytest captured it (the submission runs in this process); without this, a
    plain run would show it only with ``-s``. The last lines are kept: they were
    printed nearest the failure (and a property test replays its smallest
    failing input last). Capped and made safe to show.
    """
    lines = report.capstdout.strip("\n").splitlines()
    if not lines:
        return ""
    kept = lines[-limits.PRINTED_SHOWN_LINES:]
    cut = [untrusted.CUT_MARK.format(count=len(lines) - len(kept))] if len(lines) > len(kept) else []
    text = "\n".join(line[:limits.PRINTED_SHOWN_CHARACTERS] for line in cut + kept)
    return "\n" + say("printed") + "\n" + untrusted.shown(text, limits.PRINTED_SHOWN_CHARACTERS)


def _skip_reason(report):
    """A skip's reason without pytest's "Skipped: " prefix; pytest-benchmark's own reason translated."""
    reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
    reason = reason.removeprefix("Skipped: ")
    return say("benchmark_only") if reason.startswith("Skipping non-benchmark") else reason


def _names(names):
    """A few test names, the parametrization only when they share the function's name."""
    short = [name[name.index("["):] if "[" in name else name for name in names]
    text = ", ".join(short[:NAMES_SHOWN])
    return text + (", …" if len(short) > NAMES_SHOWN else "")


def _summary_line(part, counts, marks, width):
    total = sum(counts.values())
    if counts["failed"]:
        mark = marks["fail"]
    elif counts["passed"]:
        mark = marks["ok"]
    else:
        mark = marks["skip"]
    detail = ", ".join(say(f"outcome_{outcome}", count=n) for outcome, n in sorted(counts.items()))
    return f"{mark:<{width}} {part:<28} {say('table_row', passed=counts['passed'], total=total)} ({detail})"
