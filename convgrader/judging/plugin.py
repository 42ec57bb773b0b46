"""The pytest plugin: chooses what is graded and keeps grading output readable.

It is registered through the ``pytest11`` entry point, so ``--impl`` is known
however pytest is started, and it keeps in code everything grading depends on
(timeouts, which folders are collected) rather than in an ini file that a run
started from elsewhere would not find.

Like pytest-timeout, it acts only where asked: in a run of this project's
tests, or when one of its options is given. Pytest run on another project in the
same environment sees its options in ``--help`` and nothing else.
"""

import importlib.util
import json
import os
import re
import sys
import traceback
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from convgrader import language, limits, untrusted
from convgrader.assignment import BY_NAME, MARKER, PARTS, part_of
from convgrader.judging import compare, cpu_budget, diagnostics, options, outcomes
from convgrader.judging.points import TWIN_MARKER, declared
from convgrader.messages import Said, say, together
from convgrader.paths import BENCHMARKS, GRADED_TESTS, HIDDEN_TESTS, PROJECT, SELF_TESTS
from convgrader.running import implementation, isolation, sandbox
from convgrader.running.implementation import ImplementationUnavailable
from convgrader.report import GRADING_FAILED, Verdict
from convgrader.untrusted import shown, shown_name

#: Folders of tests that a plain ``pytest`` run leaves out, with the option that brings each in.
OPT_IN_FOLDERS = {SELF_TESTS: "--selftest", BENCHMARKS: "--benchmark-only", HIDDEN_TESTS: "--hidden"}
#: Folders whose every test grades a part, and must say which.
GRADING_FOLDERS = (GRADED_TESTS, HIDDEN_TESTS)
#: Options that ask for grading wherever pytest runs.
OWN_OPTIONS = ("impl", "selftest", "hidden", "isolate", "outcomes", "collect_manifest")

#: Different failures of one part shown in full; the others are named (all of them with -v).
FAILURES_SHOWN_PER_PART = 3
#: Names listed in one "failed the same way" line.
NAMES_SHOWN = 4

#: The skeleton's text in each ``raise NotImplementedError(...)``.
SKELETON_TODO = re.compile(r"(\S+) is not implemented yet: write it in (\S+)$")

IMPLS = pytest.StashKey[list]()
ACTIVE = pytest.StashKey[bool]()
#: What groups a failure with others of its part: the failing lines for an exception, else the message.
FAILURE_GROUP = pytest.StashKey[str]()


def pytest_addoption(parser):
    group = parser.getgroup("convgrader", "grading the convolutional-network assignment")
    options.add(group.addoption, "impl", "; repeat to grade several in one run", action="append", default=None)
    group.addoption(
        "--selftest", action="store_true", default=False,
        help="also run the harness's own tests (tests/selftest)")
    options.add(group.addoption, "hidden")
    options.add(group.addoption, "hidden_seed")
    group.addoption(
        "--isolate", action="store_true", default=False,
        help="run the submission in a sandboxed process: this process never imports its code")
    group.addoption(
        "--deadline", type=float, default=None, metavar="EPOCH",
        help="with --isolate: no call of the submission starts after this time.time() value")
    options.add(group.addoption, "call_timeout", "; with --isolate per call, without it per graded test")
    options.add(group.addoption, "lang")
    parser.addini(language.INI_OPTION, "language of the messages to students, ru or en (--lang overrides it)",
                  default="")
    group.addoption(
        "--isolation", choices=("namespaces", "process", "auto"), default=None,
        help="with --isolate: how the sandbox is isolated (default: $CONVGRADER_ISOLATION, else the "
             "strongest available; see docs/threat-model.md)")
    group.addoption(
        "--outcomes", default=None, metavar="FILE",
        help="write one JSON line per test (part, outcome, message, output) to FILE as tests finish")
    group.addoption(
        "--collect-manifest", default=None, metavar="FILE",
        help="write one JSON line per collected test (node id, part, weight, scored, hidden) to FILE")
    group.addoption(
        "--outcomes-key-fd", type=int, default=None, metavar="FD",
        help="read a secret from this inherited file descriptor and sign each outcome line with it")


def is_active(config):
    """True in a run of this project's tests, or when an option of the harness was given."""
    if config.stash.get(ACTIVE, None) is None:
        given = any(config.getoption(name) not in (None, False) for name in OWN_OPTIONS)
        config.stash[ACTIVE] = given or Path(config.rootpath).resolve().is_relative_to(PROJECT)
    return config.stash[ACTIVE]


def pytest_configure(config):
    if not is_active(config):
        return
    # Hypothesis imports libcst when a property test fails; its deprecation notices are not the student's.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:libcst.*")
    config.addinivalue_line("markers", "selftest: a test of the harness itself, not of a submission")
    config.addinivalue_line("markers", "hidden: a test kept from students (tests/hidden)")
    config.addinivalue_line("markers", f"{MARKER}(part, weight=1, scored=True): the graded part this test grades "
                                       "(see convgrader/assignment.py), its weight within the part, and whether it "
                                       "carries points")
    config.addinivalue_line("markers", f"{TWIN_MARKER}(*tests): a hidden test that replays these visible tests on "
                                       "fresh inputs; they score only when it passes (convgrader/judging/points.py)")
    try:
        language.set_current(language.choose(config.getoption("lang"), config.getini(language.INI_OPTION)))
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    _collect_from_the_root(config)
    values = config.getoption("impl") or [implementation.DEFAULT]
    try:
        config.stash[IMPLS] = [_implementation(value, config) for value in values]
    except (ValueError, isolation.IsolationUnavailable) as error:
        raise pytest.UsageError(str(error)) from None
    config.pluginmanager.import_plugin("convgrader.judging.impl_fixture")
    if config.getoption("collect_manifest"):
        config.pluginmanager.register(CollectManifest(config.getoption("collect_manifest")), "convgrader-manifest")
    if config.getoption("outcomes"):
        key = _read_key(config.getoption("outcomes_key_fd"))
        config.pluginmanager.register(OutcomeLog(config.getoption("outcomes"), key), "convgrader-outcomes")
    config.pluginmanager.register(PartTally(config), "convgrader-tally")
    if not config.getoption("isolate"):  # in-process: a CPU budget per test (the sandbox bounds its own calls)
        config.pluginmanager.register(cpu_budget.CpuBudget(config.getoption("call_timeout")), "convgrader-cpu-budget")
    if config.getoption("selftest") and importlib.util.find_spec("tests.selftest.mutation_score"):
        config.pluginmanager.import_plugin("tests.selftest.mutation_score")


def _collect_from_the_root(config):
    """A bare ``pytest`` typed in a folder of the assignment (student_impl/, notebooks/) runs its tests.

    pytest uses ``testpaths`` only when it runs in the rootdir itself; anywhere
    below, it collects that folder alone, which holds no tests (0 items). A run
    given no paths, inside the project that holds the graded tests, collects
    the ``testpaths`` of the rootdir instead.
    """
    here, root = Path(config.invocation_params.dir), Path(config.rootpath)
    if config.args_source != pytest.Config.ArgsSource.INVOCATION_DIR or here == root \
            or root not in here.parents or not (root / GRADED_TESTS.relative_to(PROJECT)).is_dir():
        return
    paths = [str(root / path) for path in config.getini("testpaths")] or [str(root / "tests")]
    config.args[:] = [path for path in paths if Path(path).exists()]


def _implementation(value, config):
    """The in-process implementation, or with --isolate its sandbox."""
    if not config.getoption("isolate"):
        return implementation.resolve(value)
    kind, where = implementation.locate(value)
    return sandbox.GradedSandboxes(where, implementation.label_of(value), deadline=config.getoption("deadline"),
                                   call_timeout=config.getoption("call_timeout"),
                                   level=config.getoption("isolation"))


def pytest_unconfigure(config):
    for impl in config.stash.get(IMPLS, []):
        if isinstance(impl, sandbox.GradedSandboxes):
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
    if not is_active(config):
        return None
    for folder, option in OPT_IN_FOLDERS.items():
        if collection_path.is_relative_to(folder) and not _opted_in(folder, option, config):
            return True
    return None


def pytest_generate_tests(metafunc):
    if not is_active(metafunc.config):
        return
    impls = metafunc.config.stash[IMPLS]
    if "impl" in metafunc.fixturenames and len(impls) > 1:
        metafunc.parametrize("impl", impls, ids=[impl.label for impl in impls],
                             indirect=True, scope="session")


def pytest_collection_modifyitems(config, items):
    if not is_active(config):
        return
    wants_default_timeout = (config.pluginmanager.hasplugin("timeout")
                             and config.getoption("timeout", None) is None
                             and not config.getini("timeout"))
    timeout = limits.ISOLATED_TEST if config.getoption("isolate") else limits.TEST
    for item in items:
        if any(item.path.is_relative_to(folder) for folder in GRADING_FOLDERS):
            check_declared_part(item)
            item.user_properties.append(("part", part_of(item)))  # in JUnit XML, for readers of it
        if item.path.is_relative_to(HIDDEN_TESTS):
            item.add_marker(pytest.mark.hidden)
        if wants_default_timeout and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(timeout))


def check_declared_part(item):
    """A graded test names a known part on its marker, and its id contains the part's name (for ``-k``)."""
    part = part_of(item)
    if part not in BY_NAME:
        raise pytest.UsageError(f"{item.nodeid}: a graded test must declare its part with "
                                f"@pytest.mark.{MARKER}(<one of {', '.join(PARTS)}>); it declares {part!r}")
    if part.lower() not in item.name.lower():
        raise pytest.UsageError(f"{item.nodeid}: its name must contain {part!r}, so that "
                                f"`pytest -k {part}` selects it")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Turn a failure of the submission into the short message ``grade`` gives: no pytest traceback.

    An exception raised in the submission's code (a frame of its files in the
    traceback) or one the diagnostics explain becomes ``Type: message``, the
    submission's own frames and a hint. Anything else is the harness's failure
    and keeps its full traceback.
    """
    if not is_active(item.config):
        return (yield)
    compare.graded_alone_note()  # a note left by an earlier test is not this one's
    try:
        return (yield)
    except pytest.fail.Exception as failure:  # a comparison failed: say how a backward was called
        note = compare.graded_alone_note()
        said = compare.said_of(failure)
        if note and note not in said.parts:  # the failure stays data: the note is one more line of it
            failure.said = together(said, note)
            failure.msg = str(failure.said)
        raise
    except NotImplementedError as error:
        said = _not_implemented(error, _implementation_folders(item.config))
        item.stash[FAILURE_GROUP] = str(said)
        compare.graded_alone_note()  # the backward itself is unwritten: how it was called does not matter
    except ImplementationUnavailable as error:
        said = together(_said(error), diagnostics.explain_exception_text(str(error)))
    except sandbox.SubmissionRaised as error:
        said = compare.said_raised(error.type_name, error.message, [error.traceback_text],
                                   diagnostics.explain_exception(error.type_name, error.message))
        item.stash[FAILURE_GROUP] = f"{error.type_name}\n{error.traceback_text}"
    except sandbox.SubmissionFailure as error:
        said = _said(error)
    except sandbox.GradingFailed:
        raise  # the machine's fault: reported as such (OutcomeLog), never as the submission's
    except Exception as error:  # raised in this process by the submission (without --isolate)
        explained = diagnostics.explain_exception(type(error).__name__, str(error))
        frames = _student_frames(error, _implementation_folders(item.config))
        if explained is None and not frames:
            raise
        where = [_frame_line(frame) for frame in frames[-3:]]
        first_line = shown((str(error).splitlines() or [""])[0])  # the submission's text
        said = compare.said_raised(type(error).__name__, first_line, where, explained)
        item.stash[FAILURE_GROUP] = shown("\n".join([type(error).__name__, *where]))
    said = together(said, compare.graded_alone_note())
    # Outside the except blocks, so the report carries the message alone.
    raise compare.failure(said)


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_makereport(item, call):
    """A test's report with the submission's text escaped, before any reader sees it.

    Innermost of the report's wrappers, so pytest's terminal and JUnit XML, the
    outcome log and the tally all read the escaped text: what a submission
    printed (pytest's captured sections, without --isolate) and a failure whose
    text holds the submission's characters (control characters, escape
    sequences) lose their power over a terminal or a file. Other reports are
    left as they are.
    """
    report = yield
    if is_active(item.config):
        report.sections = [(title, shown(text)) for title, text in report.sections]
        if report.failed and report.longrepr is not None:
            text = report.longreprtext
            if shown(text, None) != text:
                report.longrepr = shown(text, None)
    return report


def _said(error):
    """What an exception of the harness says: its Said when it was raised with one, else its text verbatim."""
    first = error.args[0] if error.args else ""
    return first if isinstance(first, Said) else say("verbatim", text=str(error))


def _implementation_folders(config):
    """The folders holding the code of the implementations under test (not their sandboxes)."""
    folders = []
    for impl in config.stash.get(IMPLS, []):
        module = sys.modules.get(getattr(impl, "package", None) or "")
        locations = getattr(module, "__path__", None)
        if locations is None and getattr(impl, "package", None):
            spec = importlib.util.find_spec(impl.package)
            locations = spec.submodule_search_locations if spec else None
        folders += [Path(location).resolve() for location in locations or []]
    return folders


def _student_frames(error, folders):
    """``(frame, lineno, folder)`` of the traceback's frames that run the submission's files, outermost first."""
    found = []
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        path = Path(frame.f_code.co_filename).resolve()
        folder = next((f for f in folders if path.is_relative_to(f)), None)
        if folder is not None:
            found.append((frame, lineno, folder))
    return found


def _shown_path(frame, folder):
    """``student_impl/layers.py``: the file as the student knows it."""
    return Path(frame.f_code.co_filename).resolve().relative_to(folder.parent).as_posix()


def _frame_line(found):
    import linecache

    frame, lineno, folder = found
    code = linecache.getline(frame.f_code.co_filename, lineno).strip()
    return say("frame", file=shown_name(_shown_path(frame, folder)), line=lineno, function=frame.f_code.co_name,
               code=shown(code, newlines=False))  # the submission's text


def _not_implemented(error, folders):
    """What is not written yet and where, said once, in the run's language.

    Found from the frame that raised; with --isolate (no frames here) from the
    skeleton's own English text, which names both.
    """
    frames = _student_frames(error, folders)
    if frames:
        frame, _, folder = frames[-1]
        name, file = getattr(frame.f_code, "co_qualname", frame.f_code.co_name), _shown_path(frame, folder)
    else:
        found = SKELETON_TODO.match(str(error).strip())
        if found is None:
            text = str(error).strip()
            return say("not_implemented_saying", text=text) if text else say("not_implemented")
        name, file = found.groups()
    key = "not_implemented_method" if "." in name else "not_implemented_function"
    return say(key, name=name, file=file)


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


#: Exceptions that mean the grading machinery failed (the sandbox's worker could not start, say).
class OutcomeLog:
    """Writes one JSON line per finished test, so a run that dies midway still leaves its verdicts."""

    def __init__(self, path, key=None):
        self.file = open(path, "a", encoding="utf-8")
        self.key = key
        self.current = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        verdict = self.current.setdefault(item.nodeid, Verdict(**collected_entry(item)))
        verdict.duration += report.duration
        if report.failed or (report.skipped and verdict.outcome == "passed"):
            verdict.outcome = ("error" if report.when != "call" else "failed") if report.failed else "skipped"
            verdict.message = _message_of(report)
            if call.excinfo is not None and (call.excinfo.errisinstance(sandbox.GradingFailed)
                                             or _wall_clock_backstop(item, call)):
                verdict.outcome = GRADING_FAILED  # the harness's fault: grade retries, never charges it
            # The failure as data, and what a failed array comparison looked like (compare.comparison_figure).
            verdict.said, verdict.figure = _failure_data(call)
            verdict.group = item.stash.get(FAILURE_GROUP, "")
        if report.when == "teardown":
            impl = item.callspec.params.get("impl") if hasattr(item, "callspec") else None
            impl = impl or item.config.stash[IMPLS][0]
            if isinstance(impl, sandbox.GradedSandboxes):
                verdict.output, verdict.output_bytes = impl.take_output()
                verdict.tamper = list(impl.tamper_events)
                verdict.isolation = impl.level
            self.file.write(outcomes.signed_line(self.current.pop(item.nodeid), self.key))
            self.file.flush()
        return report

    def pytest_unconfigure(self):
        self.file.close()


def _wall_clock_backstop(item, call):
    """True when pytest-timeout's wall clock ended a sandboxed test: every call in it is bounded in CPU
    time, so the machine was too busy (see limits.py), not the submission slow."""
    return (item.config.getoption("isolate") and call.excinfo.errisinstance(pytest.fail.Exception)
            and "from pytest-timeout" in str(call.excinfo.value))


def collected_entry(item):
    """What collection tells of a test: its node id, name, part, weight, whether it is scored and hidden,
    and for a hidden twin the node ids of the visible tests it confirms."""
    part, weight, scored = declared(item)
    return {"nodeid": item.nodeid, "name": item.name, "part": part, "weight": weight, "scored": scored,
            "hidden": item.get_closest_marker("hidden") is not None, "twin_of": twin_of(item)}


def twin_of(item):
    """Node ids of the visible tests a hidden twin confirms (its ``twin_of`` marker names their functions).

    A parametrized twin confirms the visible test of the same parameters: its ids are the visible test's.
    """
    marker = item.get_closest_marker(TWIN_MARKER)
    if marker is None:
        return []
    params = f"[{item.callspec.id}]" if hasattr(item, "callspec") else ""
    found = []
    for test in marker.args:
        path = Path(os.path.relpath(sys.modules[test.__module__].__file__, item.config.rootpath)).as_posix()
        found.append(f"{path}::{test.__name__}{params}")
    return found


class CollectManifest:
    """Writes :func:`collected_entry` of every collected test, so a grader knows the tests it may never see run."""

    def __init__(self, path):
        self.path = path

    def pytest_collection_finish(self, session):
        with open(self.path, "w", encoding="utf-8") as file:
            for item in session.items:
                file.write(json.dumps(collected_entry(item)) + "\n")


def _failure_data(call):
    """The failure as data and its figure, as :func:`compare.failure` attached them (None, None otherwise)."""
    failure = call.excinfo.value if call.excinfo else None
    if not isinstance(failure, pytest.fail.Exception):
        return None, None
    said, figure = getattr(failure, "said", None), getattr(failure, "figure", None)
    return (said.to_data() if isinstance(said, Said) else None), (figure if isinstance(figure, dict) else None)


def _message_of(report):
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    return report.longreprtext


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
                hidden, shown = shown[FAILURES_SHOWN_PER_PART:], shown[:FAILURES_SHOWN_PER_PART]
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
