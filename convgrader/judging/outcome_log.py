"""The outcome log (one signed JSON line per finished test) and the collection manifest.

Both are pytest plugins the grading plugin registers when ``--outcomes`` or
``--collect-manifest`` asks for them; ``grade`` reads what they write.
"""

import json
import os
import sys
from pathlib import Path

import pytest

from convgrader.judging import outcomes
from convgrader.judging.keys import FAILURE_GROUP, IMPLS
from convgrader.judging.points import TWIN_MARKER, declared
from convgrader.messages import Said
from convgrader.report import GRADING_FAILED, Verdict
from convgrader.running import sandbox

def read_key(fd):
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
            verdict.message = message_of(report)
            if call.excinfo is not None and (call.excinfo.errisinstance(sandbox.GradingFailed)
                                             or _wall_clock_backstop(item, call)):
                verdict.outcome = GRADING_FAILED  # the harness's fault: grade retries, never charges it
            # The failure as data, and what a failed array comparison looked like (compare.comparison_figure).
            verdict.said, verdict.figure = failure_data(call)
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


def failure_data(call):
    """The failure as data and its figure, as :func:`compare.failure` attached them (None, None otherwise)."""
    failure = call.excinfo.value if call.excinfo else None
    if not isinstance(failure, pytest.fail.Exception):
        return None, None
    said, figure = getattr(failure, "said", None), getattr(failure, "figure", None)
    return (said.to_data() if isinstance(said, Said) else None), (figure if isinstance(figure, dict) else None)


def message_of(report):
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    return report.longreprtext
