"""How strongly a submission's process is kept apart from the grader, and from other submissions.

Two levels exist, and every report records which one graded it:

``namespaces``
    The worker runs under bubblewrap (``bwrap``) in new user, PID, network, IPC and
    UTS namespaces, seeing read-only binds of only what it needs. Nothing it does
    outlives its grading or reaches the grader's files.
``process``
    Where Linux namespaces are unavailable (macOS, Windows, containers without user
    namespaces such as Gradescope's): a separate, resource-limited process, run as
    ``nobody`` when the grader is root. Good enough for a student checking their own
    code; ``batch`` refuses it for a class unless told ``--allow-weak-isolation``.
"""

import functools
import shutil
import subprocess

NAMESPACES = "namespaces"
PROCESS = "process"
LEVELS = (NAMESPACES, PROCESS)


@functools.cache
def bwrap():
    """The path of a bubblewrap that can start a sandbox on this machine, or None."""
    found = shutil.which("bwrap")
    if found is None:
        return None
    try:
        check = subprocess.run([found, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent",
                                "--", "/bin/true"], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return found if check.returncode == 0 else None


def available_level():
    """The strongest level this machine offers."""
    return NAMESPACES if bwrap() else PROCESS
