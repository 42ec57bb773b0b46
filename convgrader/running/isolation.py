"""How strongly a submission's process is kept apart from the grader, and from other submissions.

Two levels exist, and every report records which one graded it:

``namespaces``
    The worker runs under bubblewrap (``bwrap``) in new user, PID, network, IPC,
    UTS and cgroup namespaces, as uid 65534 with no capabilities, no nested user
    namespaces and a minimal environment, seeing read-only binds of only what it
    needs (see :func:`worker_binds`; the layer functions' worker sees no fast
    code), a read-only ``/dev`` and a private, size-capped tmpfs as ``/tmp`` and
    working folder. Nothing it does outlives its grading (PID namespace, die-with-parent)
    or reaches the grader's files, other submissions or the network.
``process``
    Where Linux namespaces are unavailable (macOS, Windows, containers without user
    namespaces such as Gradescope's): a separate, resource-limited process, run as
    ``nobody`` when the grader is root, started in isolated mode (``python -I``)
    with a minimal environment. Good enough for a student checking their own
    code; ``batch`` refuses it for a class unless told ``--allow-weak-isolation``.

The level is the strongest available unless ``CONVGRADER_ISOLATION`` (or the
pytest option ``--isolation``) asks for one: ``process`` forces the weaker level
(tests, students without bwrap); ``namespaces`` insists, and grading fails when
bwrap cannot start a sandbox here. See ``docs/threat-model.md``.
"""

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from convgrader import limits, paths

NAMESPACES = "namespaces"
PROCESS = "process"
LEVELS = (NAMESPACES, PROCESS)
#: The environment variable that chooses a level (``process``, ``namespaces`` or ``auto``).
LEVEL_VARIABLE = "CONVGRADER_ISOLATION"

#: Where the graded folder appears inside the sandbox: ``/submission/<its folder name>``.
SUBMISSION_ROOT = "/submission"
#: The uid and gid a submission has inside its user namespace ('nobody').
NOBODY = 65534
#: Variables a worker inherits from the grader: speed settings only, never secrets.
#: Everything else (tokens, keys, paths of the grader's files) stays out.
PASSED_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "GOMP_SPINCOUNT", "OMP_WAIT_POLICY")
#: The harness's files a worker imports: the rest of convgrader/ (judging, the
#: commands, the course tools) and everything else in the project stay unseen.
WORKER_MODULES = ("convgrader/__init__.py", "convgrader/paths.py", "convgrader/assignment.py", "convgrader/limits.py",
                  "convgrader/messages.py", "convgrader/language.py",  # messages travel as keys and fields
                  "convgrader/running")
#: The provided course code a submission may import, and the kernels it runs on.
COURSE_CODE = ("reference", "fast_ext")
#: The two kinds of worker. The layer functions' worker has no fast code at all: no ``fast_ext``, and
#: ``reference/fast_layers.py`` replaced by :data:`NO_FAST_LAYERS`; the model's has the provided fast
#: and sandwich layers, which ``ThreeLayerConvNet`` is meant to use.
LAYERS, MODEL = "layers", "model"
ROLES = (LAYERS, MODEL)
#: What the layer functions' worker sees as ``reference/fast_layers.py``: functions that refuse, saying why.
NO_FAST_LAYERS = paths.HARNESS / "running" / "no_fast_layers.py"
#: The harness's own correct and one-bug implementations, graded by the self-tests.
SELFTEST_IMPLEMENTATIONS = paths.SELF_TESTS / "implementations"
#: ... except these, which attack the grader and are treated like any student's.
HOSTILE_IMPLEMENTATIONS = SELFTEST_IMPLEMENTATIONS / "hostile"


class IsolationUnavailable(Exception):
    """The level asked for cannot be had on this machine."""


def _bwrap_works(found):
    """True when ``found`` starts a sandbox with a new user namespace and every other one."""
    try:
        check = subprocess.run([found, "--ro-bind", "/", "/", "--unshare-all", "--unshare-user",
                                "--uid", str(NOBODY), "--gid", str(NOBODY), "--die-with-parent",
                                "--cap-drop", "ALL", "--", "/bin/true"], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return check.returncode == 0


@functools.cache
def bwrap():
    """The path of a bubblewrap that can start a sandbox on this machine, or None."""
    found = shutil.which("bwrap")
    return found if found and _bwrap_works(found) else None


def available_level():
    """The strongest level this machine offers."""
    return NAMESPACES if bwrap() else PROCESS


def chosen_level(requested=None):
    """The level to grade with: ``requested`` (or ``$CONVGRADER_ISOLATION``), else the strongest available.

    Raises
    ------
    IsolationUnavailable
        When ``namespaces`` is asked for and bwrap cannot start a sandbox here.
    ValueError
        For an unknown level.
    """
    requested = (requested or os.environ.get(LEVEL_VARIABLE) or "auto").strip().lower()
    if requested == "auto":
        return available_level()
    if requested not in LEVELS:
        raise ValueError(f"unknown isolation level {requested!r}: choose one of {', '.join(LEVELS)} or auto")
    if requested == NAMESPACES and bwrap() is None:
        raise IsolationUnavailable("namespaces were asked for, but bubblewrap (bwrap) is missing or cannot "
                                   "create user namespaces here (Debian: apt-get install bubblewrap)")
    return requested


def is_trusted(folder):
    """True for implementations the harness itself owns: the answer key and the self-tests' correct and mutant ones.

    Decided by path: those may import the answer key and each other (the
    mutants are the answer key with one bug), so their sandbox shows them.
    The hostile ones, and anything outside the project, are a student's.
    """
    folder = Path(os.path.realpath(folder))
    if folder == paths.ANSWER_KEY:
        return True
    return folder.is_relative_to(SELFTEST_IMPLEMENTATIONS) and not folder.is_relative_to(HOSTILE_IMPLEMENTATIONS)


def inside_path(folder):
    """Where the graded ``folder`` appears inside the sandbox."""
    return f"{SUBMISSION_ROOT}/{Path(folder).name}"


def python_prefixes():
    """The interpreter's installation folders (a venv's and the Python it was made from), resolved."""
    found = []
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                   os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))):
        for path in (os.path.abspath(prefix), os.path.realpath(prefix)):
            if path not in found and path != "/" and os.path.isdir(path):
                found.append(path)
    return found


def course_code_binds(role):
    """(outside, inside) pairs of the provided course code a worker of ``role`` sees.

    The model's worker gets ``reference/`` and ``fast_ext/`` whole. The layer
    functions' worker gets only the Python source of ``reference/`` (no
    ``__pycache__``), with :data:`NO_FAST_LAYERS` as ``fast_layers.py``, and no
    ``fast_ext``: no compiled kernel of the harness exists in its file system.
    """
    project = paths.PROJECT
    if role == MODEL:
        return [(str(project / name), str(project / name)) for name in COURSE_CODE]
    reference = project / "reference"
    binds = [(str(path), str(path)) for path in sorted(reference.glob("*.py")) if path.name != "fast_layers.py"]
    return binds + [(str(NO_FAST_LAYERS), str(reference / "fast_layers.py"))]


def worker_binds(folder, role=MODEL, staged=None):
    """(outside, inside) pairs bound read-only into a worker's sandbox.

    The interpreter and its packages, the system's libraries, the harness's
    worker modules, the provided course code as ``role`` has it (see
    :func:`course_code_binds`) and the graded folder (``staged``, its copy of
    Python source only, when given); for a trusted implementation (see
    :func:`is_trusted`) also the answer key and the self-tests'
    implementations. Never the hidden or graded tests, the fixtures, the
    reports, or other submissions.
    """
    project = str(paths.PROJECT)
    binds = [(path, path) for path in python_prefixes()]
    binds += [(os.path.join(project, name), os.path.join(project, name)) for name in WORKER_MODULES]
    binds += course_code_binds(role)
    if is_trusted(folder):
        binds.append((str(paths.ANSWER_KEY), str(paths.ANSWER_KEY)))
        for package in (paths.TESTS, paths.SELF_TESTS):
            init = str(package / "__init__.py")
            binds.append((init, init))
        binds.append((str(SELFTEST_IMPLEMENTATIONS), str(SELFTEST_IMPLEMENTATIONS)))
    binds.append((str(staged or folder), inside_path(folder)))
    return [(outside, inside) for outside, inside in binds if os.path.exists(outside)]


def _system_arguments():
    """Binds of the system's programs and libraries: /usr, and /bin, /lib ... as links or binds."""
    arguments = ["--ro-bind", "/usr", "/usr"]
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(name):
            arguments += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            arguments += ["--ro-bind", name, name]
    # The dynamic loader's cache and the time zone: read by libc, never secret.
    for name in ("/etc/ld.so.cache", "/etc/localtime"):
        if os.path.exists(name):
            arguments += ["--ro-bind", name, name]
    return arguments


def minimal_environment(extra):
    """The variables a worker gets: a fixed PATH, HOME and LANG, speed settings, and ``extra``."""
    environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"}
    environment.update({name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ})
    environment.update(extra)
    return environment


@functools.cache
def disables_userns():
    """True when this bubblewrap has ``--disable-userns`` (0.8 and later): no nested user namespaces."""
    found = bwrap()
    try:
        usage = subprocess.run([found, "--help"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError, TypeError):
        return False
    return "--disable-userns" in usage


def bwrap_command(argv, folder, environment, tmpfs_bytes=limits.TMPFS_BYTES, role=MODEL, staged=None):
    """The command running ``argv`` in a sandbox of its own (see the module's docstring).

    Parameters
    ----------
    argv : list of str
        The worker's command line, with paths as seen inside.
    folder : str
        The graded implementation's folder (outside path).
    environment : dict
        The worker's whole environment (bwrap starts from an empty one).
    tmpfs_bytes : int
        Size cap of the private ``/tmp``.
    role : str
        :data:`LAYERS` or :data:`MODEL`: which course code the worker sees (:func:`course_code_binds`).
    staged : str, optional
        The graded folder's copy holding its Python source only, bound in its place.
    """
    found = bwrap()
    if found is None:
        raise IsolationUnavailable("bubblewrap (bwrap) cannot start a sandbox here")
    command = [found, "--unshare-all", "--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY),
               "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv",
               *(["--disable-userns"] if disables_userns() else []),
               "--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev",
               "--size", str(tmpfs_bytes), "--tmpfs", "/tmp", *_system_arguments()]
    for outside, inside in worker_binds(folder, role, staged):
        command += ["--ro-bind", outside, inside]
    for name, value in environment.items():
        command += ["--setenv", name, value]
    # The folders bwrap made to hold the binds live in its own tmpfs root: make
    # that read-only too, so only /tmp is writable.
    return command + ["--remount-ro", "/", "--chdir", "/tmp", "--", *argv]
