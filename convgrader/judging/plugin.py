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
from pathlib import Path

import pytest

from convgrader import language, limits
from convgrader.assignment import BY_NAME, MARKER, PARTS, part_of
from convgrader.judging import compare, cpu_budget, diagnostics, options
from convgrader.judging.failures import (frame_line, implementation_folders, not_implemented, said_of_error,
                                         student_frames)
from convgrader.judging.keys import ACTIVE, FAILURE_GROUP, IMPLS
from convgrader.judging.outcome_log import CollectManifest, OutcomeLog, read_key
from convgrader.judging.points import TWIN_MARKER
from convgrader.judging.tally import PartTally
from convgrader.messages import together
from convgrader.paths import BENCHMARKS, GRADED_TESTS, HIDDEN_TESTS, PROJECT, SELF_TESTS
from convgrader.running import implementation, isolation, sandbox
from convgrader.running.implementation import ImplementationUnavailable
from convgrader.untrusted import shown

#: Folders of tests that a plain ``pytest`` run leaves out, with the option that brings each in.
OPT_IN_FOLDERS = {SELF_TESTS: "--selftest", BENCHMARKS: "--benchmark-only", HIDDEN_TESTS: "--hidden"}
#: Folders whose every test grades a part, and must say which.
GRADING_FOLDERS = (GRADED_TESTS, HIDDEN_TESTS)
#: Options that ask for grading wherever pytest runs.
OWN_OPTIONS = ("impl", "selftest", "hidden", "isolate", "outcomes", "collect_manifest")


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
        key = read_key(config.getoption("outcomes_key_fd"))
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
        said = not_implemented(error, implementation_folders(item.config))
        item.stash[FAILURE_GROUP] = str(said)
        compare.graded_alone_note()  # the backward itself is unwritten: how it was called does not matter
    except ImplementationUnavailable as error:
        said = together(said_of_error(error), diagnostics.explain_exception_text(str(error)))
    except sandbox.SubmissionRaised as error:
        said = compare.said_raised(error.type_name, error.message, [error.traceback_text],
                                   diagnostics.explain_exception(error.type_name, error.message))
        item.stash[FAILURE_GROUP] = f"{error.type_name}\n{error.traceback_text}"
    except sandbox.SubmissionFailure as error:
        said = said_of_error(error)
    except sandbox.GradingFailed:
        raise  # the machine's fault: reported as such (OutcomeLog), never as the submission's
    except Exception as error:  # raised in this process by the submission (without --isolate)
        explained = diagnostics.explain_exception(type(error).__name__, str(error))
        frames = student_frames(error, implementation_folders(item.config))
        if explained is None and not frames:
            raise
        where = [frame_line(frame) for frame in frames[-3:]]
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
