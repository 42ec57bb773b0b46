"""A CPU-time budget for each graded test of a plain (in-process) pytest run.

How students check their code is ``pytest -k conv_forward``, in one process
with their code. Each graded test there gets a budget of this
process's CPU time (``--call-timeout``, by default ``limits.CALL``), counted by
the kernel (``setitimer(ITIMER_PROF)``), so a busy
machine never fails it; pytest-timeout's wall clock stays as the last backstop.

When a test runs out of CPU time, the function it was in is found from the
traceback and run once more on a tiny input (as ``grade`` does, with
``limits.PROBE`` CPU seconds): if that does not finish either, the function
hung, and every later look-up of it fails at once with "not run: it hung in
...", so an endless loop costs its tests one budget in all, not one each.
Otherwise it is too slow on this input, which costs this test only.

``grade`` does not use this: with ``--isolate`` the sandbox bounds each call
from outside (:mod:`convgrader.running.sandbox`).
"""

import contextlib
import signal
import threading
import traceback
from pathlib import Path

import pytest

from convgrader import limits, paths
from convgrader.assignment import BY_NAME, MODEL_CLASS, part_of
from convgrader.messages import say
from convgrader.running.sandbox import SubmissionTimeout, run_on_tiny_input

#: Seconds of CPU time between repeated alarms once the budget is spent, for code that
#: catches the first one (``except BaseException``) and goes on.
REPEAT = 1.0


class CpuTimeExceeded(BaseException):
    """Raised into the running code when its CPU budget is spent (not an Exception: code catching those misses it)."""


def _raise_exceeded(signum, frame):
    raise CpuTimeExceeded()


@contextlib.contextmanager
def cpu_alarm(seconds):
    """Raise :class:`CpuTimeExceeded` in this (main) thread once the process has used ``seconds`` more CPU time.

    Parameters
    ----------
    seconds : float
        CPU seconds, user and system, of every thread of this process.
    """
    previous = signal.signal(signal.SIGPROF, _raise_exceeded)
    signal.setitimer(signal.ITIMER_PROF, seconds, REPEAT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def culprit(error, item):
    """The graded name whose code was running when the budget ran out.

    The outermost frame outside the harness and the tests that runs a graded
    function (or a method of the model) names it; else the test's own part.
    """
    harness = (paths.HARNESS, paths.TESTS, paths.PROJECT / "reference")
    for frame, _ in traceback.walk_tb(error.__traceback__):
        path = Path(frame.f_code.co_filename).resolve()
        if any(path.is_relative_to(folder) for folder in harness):
            continue
        if frame.f_code.co_name in BY_NAME:
            return frame.f_code.co_name
        owner = frame.f_locals.get("self")
        if owner is not None and type(owner).__name__ == MODEL_CLASS:
            return MODEL_CLASS
    return part_of(item)


def hangs_on_tiny_input(impl, name):
    """True when ``name`` of ``impl`` does not finish on a tiny input within ``limits.PROBE`` CPU seconds."""
    try:
        run_on_tiny_input(impl.get, name, lambda: cpu_alarm(limits.PROBE))
    except CpuTimeExceeded:
        return True
    except Exception:
        pass  # it answered, even if wrongly: not hung
    return False


class CpuBudget:
    """The plugin object: a CPU alarm of ``budget`` seconds around each test that uses an implementation."""

    def __init__(self, budget):
        self.budget = budget

    # The innermost wrapper, so the plugin's own wrapper turns SubmissionTimeout into the short message.
    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_call(self, item):
        impl = _impl_of(item)
        if impl is None or not hasattr(impl, "refused") or threading.current_thread() is not threading.main_thread():
            return (yield)
        try:
            with cpu_alarm(self.budget):
                return (yield)
        except CpuTimeExceeded as error:
            name = culprit(error, item)
        test = item.name
        if not hangs_on_tiny_input(impl, name):
            raise SubmissionTimeout(say("cpu_too_slow", name=name, budget=self.budget), "too slow")
        message = say("cpu_not_run_hung", name=name, test=test)
        impl.refused[name] = lambda: SubmissionTimeout(message, "hung")
        raise SubmissionTimeout(say("cpu_hung", name=name, budget=self.budget), "hung")


def _impl_of(item):
    """The implementation a test uses (its ``impl`` fixture's value), or None for a test without one."""
    if "impl" not in getattr(item, "fixturenames", ()):
        return None
    return getattr(item, "funcargs", {}).get("impl")
