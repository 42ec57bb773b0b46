"""The pytest plugin: chooses what is graded and keeps grading output readable.

It is registered through the ``pytest11`` entry point, so ``--impl`` is known
however pytest is started, and it keeps in code everything grading depends on
(timeouts, which folders are collected) rather than in an ini file that a run
started from elsewhere would not find.
"""

import importlib.util
import os
import traceback
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from convgrader.judging import diagnostics, outcomes
from convgrader.running import implementation, sandbox
from convgrader.running.implementation import ImplementationUnavailable
from convgrader.assignment import PARTS, part_of
from convgrader.paths import PROJECT

#: Folders of tests that a plain ``pytest`` run leaves out, with the option that brings each in.
OPT_IN_FOLDERS = {
    PROJECT / "tests" / "selftest": "--selftest",
    PROJECT / "tests" / "benchmarks": "--benchmark-only",
    PROJECT / "tests" / "hidden": "--hidden",
}
#: Seconds a graded test may run unless it says otherwise; loop-style naive
#: code on the seed's largest inputs needs a few seconds, a hang needs forever.
DEFAULT_TIMEOUT = 120
#: With --isolate every call of the submission has its own bound
#: (sandbox.CALL_TIMEOUT); the test's bound only backs those up.
ISOLATED_TIMEOUT = 900
#: Characters of a failure message kept in the outcome log.
MESSAGE_CAP = 2000
#: Seed of the hidden tests' random cases unless ``--hidden-seed`` says otherwise.
HIDDEN_SEED = 20261127

IMPLS = pytest.StashKey[list]()


def pytest_addoption(parser):
    group = parser.getgroup("convgrader", "grading the convolutional-network assignment")
    group.addoption(
        "--impl", action="append", default=None, metavar="VALUE",
        help="what to grade: student_impl (default), reference (the answer key), another "
             "importable package, or the path of a folder laid out like student_impl/. "
             "Repeat to grade several in one run.")
    group.addoption(
        "--selftest", action="store_true", default=False,
        help="also run the harness's own tests (tests/selftest)")
    group.addoption(
        "--hidden", action="store_true", default=False,
        help="also run the hidden tests (tests/hidden), which students do not receive")
    group.addoption(
        "--hidden-seed", type=int, default=HIDDEN_SEED, metavar="N",
        help=f"seed of the hidden tests' random cases (default {HIDDEN_SEED}); recorded in reports")
    group.addoption(
        "--isolate", action="store_true", default=False,
        help="run the submission in a sandboxed process: this process never imports its code")
    group.addoption(
        "--deadline", type=float, default=None, metavar="EPOCH",
        help="with --isolate: no call of the submission starts after this time.time() value")
    group.addoption(
        "--call-timeout", type=float, default=sandbox.CALL_TIMEOUT, metavar="SECONDS",
        help=f"with --isolate: seconds one call of the submission may take (default {sandbox.CALL_TIMEOUT:g})")
    group.addoption(
        "--outcomes", default=None, metavar="FILE",
        help="write one JSON line per test (part, outcome, message, output) to FILE as tests finish")
    group.addoption(
        "--outcomes-key-fd", type=int, default=None, metavar="FD",
        help="read a secret from this inherited file descriptor and sign each outcome line with it")


def pytest_configure(config):
    config.addinivalue_line("markers", "selftest: a test of the harness itself, not of a submission")
    config.addinivalue_line("markers", "hidden: a test kept from students (tests/hidden)")
    values = config.getoption("impl") or [implementation.DEFAULT]
    try:
        config.stash[IMPLS] = [_implementation(value, config) for value in values]
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    if config.getoption("outcomes"):
        key = _read_key(config.getoption("outcomes_key_fd"))
        config.pluginmanager.register(OutcomeLog(config.getoption("outcomes"), key), "convgrader-outcomes")
    if not config.getoption("benchmark_only", False):
        config.pluginmanager.register(PartTally(config), "convgrader-tally")
    if config.getoption("selftest") and importlib.util.find_spec("tests.selftest.mutation_score"):
        config.pluginmanager.import_plugin("tests.selftest.mutation_score")


def _implementation(value, config):
    """The in-process implementation, or with --isolate its sandbox."""
    if not config.getoption("isolate"):
        return implementation.resolve(value)
    kind, where = implementation.locate(value)
    return sandbox.Sandbox(where, implementation.label_of(value), deadline=config.getoption("deadline"),
                           call_timeout=config.getoption("call_timeout"))


def pytest_unconfigure(config):
    for impl in config.stash.get(IMPLS, []):
        if isinstance(impl, sandbox.Sandbox):
            impl.close()


def _opted_in(folder, option, config):
    if option in ("--selftest", "--hidden") and config.getoption(option.lstrip("-")):
        return True
    if option == "--benchmark-only" and (config.getoption("benchmark_only", False)
                                         or config.getoption("benchmark_enable", False)):
        return True
    # A folder named on the command line is wanted, whatever the options.
    return any(Path(arg.split("::")[0]).resolve().is_relative_to(folder) for arg in config.args)


def pytest_ignore_collect(collection_path, config):
    for folder, option in OPT_IN_FOLDERS.items():
        if collection_path.is_relative_to(folder) and not _opted_in(folder, option, config):
            return True
    return None


def pytest_generate_tests(metafunc):
    impls = metafunc.config.stash[IMPLS]
    if "impl" in metafunc.fixturenames and len(impls) > 1:
        metafunc.parametrize("impl", impls, ids=[impl.label for impl in impls],
                             indirect=True, scope="session")


@pytest.fixture(scope="session")
def impl(request):
    """The implementation under test (see ``--impl``)."""
    return getattr(request, "param", None) or request.config.stash[IMPLS][0]


def pytest_collection_modifyitems(config, items):
    wants_default_timeout = (config.pluginmanager.hasplugin("timeout")
                             and config.getoption("timeout", None) is None
                             and not config.getini("timeout"))
    timeout = ISOLATED_TIMEOUT if config.getoption("isolate") else DEFAULT_TIMEOUT
    hidden = PROJECT / "tests" / "hidden"
    for item in items:
        if item.path.is_relative_to(hidden):
            item.add_marker(pytest.mark.hidden)
        if wants_default_timeout and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(timeout))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Turn the submission's predictable failures into one-line messages."""
    try:
        return (yield)
    except NotImplementedError as error:
        message = f"not implemented yet: {error}" if str(error) else "not implemented yet"
    except ImplementationUnavailable as error:
        message = _with_hint(str(error), diagnostics.explain_exception_text(str(error)))
    except sandbox.SubmissionRaised as error:
        message = f"{error.type_name}: {error.message}\n{error.traceback_text}".rstrip()
        message = _with_hint(message, diagnostics.explain_exception(error.type_name, error.message))
    except sandbox.SubmissionFailure as error:
        message = str(error)
    except Exception as error:  # raised in this process by the submission (without --isolate)
        explained = diagnostics.explain_exception(type(error).__name__, str(error))
        if explained is None:
            raise
        message = _with_hint(_raised_here(error), explained)
    # Outside the except blocks, so the report carries the message alone.
    pytest.fail(message, pytrace=False)


def _with_hint(message, explained):
    return f"{message}\n{explained}" if explained else message


def _raised_here(error):
    """``Type: message`` and the last frames outside the harness, pytest and numpy."""
    harness = (str(PROJECT / "convgrader"), str(PROJECT / "tests" / "graded"), str(PROJECT / "tests" / "hidden"),
               "site-packages", "/numpy/", "/_pytest/", "/pluggy/")
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if not any(part in frame.filename for part in harness)]
    where = [f"  {Path(f.filename).name}, line {f.lineno}, in {f.name}: {f.line}" for f in frames[-3:]]
    first_line = (str(error).splitlines() or [""])[0]
    return "\n".join([f"{type(error).__name__}: {first_line}".rstrip(), *where])


def _read_key(fd):
    """The signing secret from an inherited pipe, which is then closed; and no more ptrace of this process.

    The secret never appears in an argument, a variable or a file the
    submission's process could read; with the process undumpable, a process of
    the same (non-root) user cannot read it from memory either.
    """
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as pipe:
        key = pipe.read(64)
    outcomes.forbid_ptrace()
    return key


class OutcomeLog:
    """Writes one JSON line per finished test, so a run that dies midway still leaves its verdicts."""

    def __init__(self, path, key=None):
        self.file = open(path, "a", encoding="utf-8")
        self.key = key
        self.current = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        entry = self.current.setdefault(item.nodeid, {
            "nodeid": item.nodeid, "name": item.name, "part": part_of(getattr(item, "originalname", item.name)),
            "hidden": item.get_closest_marker("hidden") is not None, "outcome": "passed", "message": "",
            "duration": 0.0})
        entry["duration"] += report.duration
        if report.failed or (report.skipped and entry["outcome"] == "passed"):
            entry["outcome"] = ("error" if report.when != "call" else "failed") if report.failed else "skipped"
            entry["message"] = _message_of(report)[:MESSAGE_CAP]
            # What a failed array comparison looked like, for the HTML report (compare.comparison_figure).
            entry["figure"] = _figure_of(call)
        if report.when == "teardown":
            impl = item.callspec.params.get("impl") if hasattr(item, "callspec") else None
            impl = impl or item.config.stash[IMPLS][0]
            if isinstance(impl, sandbox.Sandbox):
                entry["output"], entry["output_bytes"] = impl.take_output()
                entry["tamper"] = list(impl.tamper_events)
            self.file.write(outcomes.signed_line(self.current.pop(item.nodeid), self.key))
            self.file.flush()
        return report

    def pytest_unconfigure(self):
        self.file.close()


def _figure_of(call):
    """The figure a failed comparison attached to its failure (only the harness's own failures carry one)."""
    failure = call.excinfo.value if call.excinfo else None
    figure = getattr(failure, "figure", None) if isinstance(failure, pytest.fail.Exception) else None
    return figure if isinstance(figure, dict) else None


def _message_of(report):
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    return report.longreprtext


class PartTally:
    """Counts test outcomes per (implementation, graded part) and prints the table."""

    def __init__(self, config):
        self.config = config
        self.outcomes = defaultdict(Counter)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        part = part_of(getattr(item, "originalname", item.name))
        counted = report.when == "call" or (report.when == "setup" and not report.passed)
        if part is not None and counted:
            impl = getattr(item, "callspec", None) and item.callspec.params.get("impl")
            self.outcomes[(impl.label if impl else "", part)][report.outcome] += 1
        return report

    def pytest_terminal_summary(self, terminalreporter):
        if not self.outcomes:
            return
        labels = sorted({label for label, _ in self.outcomes})
        terminalreporter.section("graded parts")
        for label in labels:
            if label:
                terminalreporter.write_line(f"{label}:")
            for part in PARTS:
                counts = self.outcomes.get((label, part))
                if counts:
                    terminalreporter.write_line("  " + _summary_line(part, counts))


def _summary_line(part, counts):
    total = sum(counts.values())
    if counts["failed"]:
        mark = "FAIL"
    elif counts["passed"]:
        mark = "ok  "
    else:
        mark = "skip"
    detail = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    return f"{mark} {part:<28} {counts['passed']:>3}/{total:<3} passed ({detail})"
