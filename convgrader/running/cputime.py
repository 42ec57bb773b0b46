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


def tree_usage(root):
    """The :class:`Usage` of process ``root`` and all its descendants (zeros where /proc is absent)."""
    if root is None or not os.path.isdir("/proc"):
        return Usage()
    cpu = waited = 0.0
    for pid in descendants(root):
        fields = _stat_fields(pid)
        if fields is None:
            continue
        cpu += sum(int(value) for value in fields[11:15]) / _TICKS
        waited += _waited(pid)
    return Usage(cpu, waited)
