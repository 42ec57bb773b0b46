"""Running the graded suite in a fresh process, to test the harness itself.

The self-tests grade known implementations (the answer key, the skeleton,
correct ones in other styles, one-bug mutants) exactly as a user would, with
``pytest --impl``, and read the verdicts back from the outcome log (the one
:class:`~convgrader.report.Verdict` type the harness uses end to end).
"""

import ast
import fcntl
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from convgrader.judging.grade import UNUSED_PLUGINS
from convgrader.paths import PROJECT
from convgrader.report import Verdict

IMPLEMENTATIONS = Path(__file__).resolve().parent / "implementations"
MUTANTS = IMPLEMENTATIONS / "mutants"


def grade(impl, tmp_path, select=None, extra_args=(), lang="en"):
    """Grade ``impl`` with the graded suite in a subprocess; return its verdicts.

    Gradings of the implementations that ship with the project (the answer key,
    the skeleton, tests/selftest/implementations) are the same every time, so one
    test session grades each (impl, select, extra_args) once and shares the
    verdicts among its tests and its xdist workers (see :func:`shared_grading`).
    The verdicts are the harness's own (:class:`convgrader.report.Verdict`), read
    from the outcome log the run writes, the failure as data included.

    Parameters
    ----------
    impl : str
        An ``--impl`` value.
    tmp_path : pathlib.Path
        Where the outcome log is written.
    select : str, optional
        A ``-k`` expression restricting the tests.
    extra_args : sequence of str
        More pytest arguments, e.g. ``("--hidden", str(PROJECT / "tests" / "hidden"))``
        to grade the hidden tests along with the graded suite.
    lang : str
        The run's language (English unless a test compares languages, whatever this machine's locale).
    """
    if not shipped(impl):
        return _grade(impl, tmp_path, select, extra_args, lang)
    key = json.dumps([str(impl), select, list(extra_args), lang])
    found = shared_grading(tmp_path, key, lambda: [v.to_dict() for v in
                                                    _grade(impl, tmp_path, select, extra_args, lang)])
    return [Verdict.from_dict(fields) for fields in found]


def shipped(impl):
    """True for implementations that ship with the project (their gradings never change within a session)."""
    path = PROJECT / impl if not os.path.isabs(str(impl)) else Path(impl)
    return str(impl) in ("answer_key", "student_impl") or path.resolve().is_relative_to(IMPLEMENTATIONS)


def shared_grading(tmp_path, key, compute):
    """``compute()``'s JSON result, computed once per test session and key, whatever the process asking.

    The session's temporary root (``pytest-N``, above each xdist worker's own
    folder) holds one file per key; a lock on it makes the others wait for the
    first process's result instead of grading again.
    """
    root = next((p for p in Path(tmp_path).parents if p.name.startswith("pytest-") and
                 not p.name.startswith("pytest-of-")), Path(tmp_path).parent)
    folder = root / "shared-gradings"
    folder.mkdir(exist_ok=True)
    path = folder / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return json.loads(path.read_text())
        value = compute()
        path.write_text(json.dumps(value))
        return value


def _grade(impl, tmp_path, select, extra_args, lang):
    log = tmp_path / f"outcomes-{lang}.jsonl"
    log.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", str(PROJECT / "tests" / "graded"), f"--impl={impl}",
               "-q", "-p", "no:cacheprovider", f"--outcomes={log}", f"--lang={lang}"]
    command += [f"-pno:{name}" for name in UNUSED_PLUGINS]
    if select:
        command += ["-k", select]
    command += list(extra_args)
    run = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=1800)
    if run.returncode not in (0, 1) or not log.exists():
        raise RuntimeError(f"grading {impl} did not run (exit {run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return read_outcomes(log)


def read_outcomes(path):
    """The verdicts of an unsigned outcome log (a self-test's own run), in the order the tests finished."""
    return [Verdict.from_dict(json.loads(line)["entry"]) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def outside_xdist():
    """This process's environment without pytest-xdist's variables, for a pytest run of its own.

    A self-test under ``-n auto`` runs in an xdist worker; a pytest it starts would
    inherit ``PYTEST_XDIST_WORKER`` and believe it is one too (pytest-benchmark then
    refuses ``--benchmark-only``).
    """
    return {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_XDIST")}


def junit_part(case):
    """The graded part a JUnit test case declares (the plugin's ``part`` property), or None."""
    return next((p.get("value") for p in case.iter("property") if p.get("name") == "part"), None)


def declared(mutant):
    """The mutant's MUST_FAIL, MAY_FAIL and HINT constants, read without importing it."""
    found = {"MUST_FAIL": (), "MAY_FAIL": (), "HINT": None}
    for path in (mutant / "layers.py", mutant / "classifiers" / "cnn.py"):
        if not path.exists():
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                    and getattr(node.targets[0], "id", None) in found:
                found[node.targets[0].id] = ast.literal_eval(node.value)
    return found


def reachable_selection(mutant):
    """The ``-k`` expression of the tests a mutant's bug can reach: its MUST_FAIL and MAY_FAIL parts.

    Every self-test grading a mutant uses it, so the session grades each mutant once.
    """
    promised = declared(MUTANTS / mutant)
    return " or ".join(sorted(set(promised["MUST_FAIL"]) | set(promised["MAY_FAIL"])))


def mutant_names():
    return sorted(p.name for p in MUTANTS.iterdir() if (p / "layers.py").exists()) if MUTANTS.is_dir() else []


def grade_report(impl, tmp_path, select=None, extra_args=(), project=PROJECT):
    """Grade ``impl`` with ``python -m convgrader grade`` and return its results.json as a dict."""
    results = tmp_path / "results.json"
    command = [sys.executable, "-m", "convgrader", "grade", "--impl", str(impl), "--results", str(results),
               "--lang=en", *extra_args]
    if select:
        command += ["-k", select]
    run = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=1800)
    if run.returncode != 0 or not results.exists():
        raise RuntimeError(f"grade did not run (exit {run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return json.loads(results.read_text())
