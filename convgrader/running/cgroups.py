"""A control group per worker: a cap on its tasks (processes and threads) and on its memory, children included.

RLIMIT_AS caps one process's address space, not the sum over the children it
starts, and RLIMIT_NPROC counts a user's processes everywhere (and is not
enforced at all for a root grader's sandbox, whose user namespace maps to
root outside). A control group bounds the worker and everything it starts,
whatever their user: ``pids.max`` (:data:`convgrader.limits.WORKER_TASKS`) and
``memory.limit_in_bytes`` (v1) or ``memory.max`` (v2), the worker's memory cap.

Only a grader allowed to write the cgroup file system (root, as in CI) gets
one; elsewhere :func:`make_group` returns None and the worker runs with its
per-process limits only (docs/threat-model.md says what that leaves). The
worker's command joins the group itself before it runs (:func:`joining`), so
no process of it ever runs outside.
"""

import functools
import os
import shutil
import signal
import time
import uuid
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
#: The folder under each controller holding the workers' groups.
PARENT = "convgrader"


class Group:
    """One worker's control group: one folder per controller (v1) or a single folder (v2)."""

    def __init__(self, folders):
        self.folders = folders

    @property
    def path(self):
        """The group's folder in the first controller (v2: the only one); where CPU accounting may be read."""
        return self.folders[0]

    @property
    def procs_files(self):
        return [folder / "cgroup.procs" for folder in self.folders]

    def pids(self):
        """The processes in the group now."""
        found = set()
        for path in self.procs_files:
            try:
                found.update(int(line) for line in path.read_text().split())
            except (OSError, ValueError):
                pass
        return found

    def remove(self, attempts=20):
        """Kill whatever is left in the group, then remove its folders; a folder that stays busy is left."""
        for _ in range(attempts):
            for pid in self.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            for folder in self.folders:
                try:
                    folder.rmdir()
                except FileNotFoundError:
                    pass
                except OSError:
                    break
            if not any(folder.exists() for folder in self.folders):
                return
            time.sleep(0.05)


@functools.cache
def _layout():
    """("v1", pids folder, memory folder), ("v2", root, root) or None where groups cannot be made here."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    if (ROOT / "pids").is_dir() and (ROOT / "memory").is_dir():
        return "v1", ROOT / "pids", ROOT / "memory"
    if (ROOT / "cgroup.controllers").is_file():
        return "v2", ROOT, ROOT
    return None


def make_group(tasks, memory_bytes, user=None):
    """A new group capping ``tasks`` and ``memory_bytes`` over all its processes, or None where that is impossible.

    Parameters
    ----------
    tasks : int
        Processes and threads the group may hold at once.
    memory_bytes : int
        Memory (resident, page cache included) of all its processes together.
    user : str, optional
        The user the worker runs as, when not the grader's: it may then join the group itself.
    """
    layout = _layout()
    if layout is None:
        return None
    version, pids_root, memory_root = layout
    name = f"worker-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    if version == "v1":
        group = Group([pids_root / PARENT / name, memory_root / PARENT / name])
        limits = {group.folders[0] / "pids.max": tasks, group.folders[1] / "memory.limit_in_bytes": memory_bytes}
    else:
        group = Group([pids_root / PARENT / name])
        limits = {group.path / "pids.max": tasks, group.path / "memory.max": memory_bytes}
    try:
        if version == "v2":
            (pids_root / PARENT).mkdir(exist_ok=True)
            for folder in (pids_root, pids_root / PARENT):
                (folder / "cgroup.subtree_control").write_text("+pids +memory")
        for folder in group.folders:
            folder.mkdir(parents=True)
        for path, value in limits.items():
            path.write_text(str(value))
        if user:
            for path in group.procs_files:
                shutil.chown(path, user)
    except (OSError, LookupError):
        group.remove()
        return None
    return group


def joining(group, command):
    """``command`` preceded by joining ``group``: a shell writes its own pid into the group, then execs it."""
    if group is None:
        return command
    joins = " && ".join(f'echo $$ > "${index + 1}"' for index in range(len(group.procs_files)))
    count = len(group.procs_files)
    return ["/bin/sh", "-c", f'{joins} && shift {count} && exec "$@"', "convgrader-join",
            *map(str, group.procs_files), *command]
