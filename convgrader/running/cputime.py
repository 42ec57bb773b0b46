"""The CPU time of a process tree, read from outside it (Linux ``/proc``).

A submission is charged with the CPU seconds its own processes use, never with
wall seconds, so a busy machine cannot turn correct code into "too slow". The
grader reads them from outside the untrusted process, which could fake any
clock of its own:

- ``/proc/<pid>/stat`` fields 14-17 (utime, stime, cutime, cstime) of the worker
  and of every process below it. With bubblewrap the whole sandbox's PID
  namespace hangs below the ``bwrap`` process the grader started; a child the
  submission started and that was reaped counts in its parent's cutime/cstime.
  (At the ``process`` level, a child that detached itself and was adopted by the
  grader is no longer below the worker; its time is not counted.)
- ``/proc/<pid>/task/<tid>/schedstat`` field 2: nanoseconds each thread spent
  runnable but waiting for a CPU. Wall time minus that wait is the time the
  submission could have run; when it reaches a budget while the CPU time has
  not, the submission chose to sleep or block, which is its own doing. Where
  the kernel has no schedstat, the wait reads as 0 (the charge is then wall time).
"""

import os
import time
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Usage:
    """What a process tree has used so far.

    Attributes
    ----------
    cpu : float
        CPU seconds, user and system, of the tree and its reaped children.
    waited : float
        Seconds its threads spent runnable but waiting for a CPU.
    """

    cpu: float = 0.0
    waited: float = 0.0

    def __sub__(self, other):
        return Usage(self.cpu - other.cpu, self.waited - other.waited)


def _stat_fields(pid):
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None


def descendants(root):
    """``root`` and the pids of every living process below it."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(entry)
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _waited(pid):
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat", "rb") as stat:
                total += int(stat.read().split()[1])
        except (OSError, IndexError, ValueError):
            pass
    return total / 1e9


def tree_usage(root, members=None):
    """The :class:`Usage` of process ``root`` and its descendants (zeros where /proc is absent).

    Parameters
    ----------
    root : int
        The pid at the top of the tree.
    members : list of int, optional
        The tree's pids as :func:`descendants` found them earlier: reading only
        those is far cheaper than scanning every process of the machine. A
        process started since then is missed until the next full scan; once it
        ends and is reaped, its time shows in its parent's.
    """
    if root is None or not os.path.isdir("/proc"):
        return Usage()
    cpu = waited = 0.0
    for pid in members if members is not None else descendants(root):
        fields = _stat_fields(pid)
        if fields is None:
            continue
        cpu += sum(int(value) for value in fields[11:15]) / _TICKS
        waited += _waited(pid)
    return Usage(cpu, waited)


class Meter:
    """Measures one process tree over time, scanning /proc for its members at most every ``rescan`` seconds.

    Parameters
    ----------
    root : int
        The pid at the top of the tree (the worker, or the ``bwrap`` above it).
    rescan : float
        Wall seconds between two scans of /proc for processes new in the tree;
        between them only the known members are read (a few files, not thousands).
    """

    def __init__(self, root, rescan=1.0):
        self.root, self.rescan, self.members, self.scanned = root, rescan, None, 0.0

    def read(self):
        """The tree's :class:`Usage` now."""
        if self.members is None or time.monotonic() - self.scanned >= self.rescan:
            self.members, self.scanned = descendants(self.root), time.monotonic()
        return tree_usage(self.root, self.members)
