"""The outcome log: one signed JSON line per finished test, from pytest to the grade command.

Lines are signed with HMAC-SHA256 under a secret the grade command hands to
pytest through a pipe, so a submission that finds the log's path cannot add or
change a verdict without the change being seen.
"""

import hashlib
import hmac
import json

from convgrader.report import Verdict


def signed_line(verdict, key):
    """One line of the log: a :class:`~convgrader.report.Verdict` and its signature."""
    entry = json.loads(json.dumps(verdict.to_dict(), default=_plain))
    body = json.dumps(entry, sort_keys=True)
    mac = hmac.new(key, body.encode(), hashlib.sha256).hexdigest() if key else None
    return json.dumps({"entry": entry, "mac": mac}) + "\n"


def _plain(value):
    """numpy scalars and arrays (a figure's index, say) as the plain numbers and lists JSON holds."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} cannot go into the outcome log")


def read(path, key):
    """:class:`~convgrader.report.Verdict` objects by node id, and a list of problems (forged or unreadable lines)."""
    found, problems = {}, []
    if not path.exists():
        return found, problems
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        try:
            record = json.loads(line)
            entry, mac = record["entry"], record["mac"]
            expected = hmac.new(key, json.dumps(entry, sort_keys=True).encode(), hashlib.sha256).hexdigest()
        except (ValueError, KeyError, TypeError):
            problems.append(f"line {number} of the outcome log is unreadable")
            continue
        if not isinstance(mac, str) or not hmac.compare_digest(mac, expected):
            problems.append(f"line {number} of the outcome log is forged")
            continue
        try:
            verdict = Verdict.from_dict(entry)
        except (TypeError, AttributeError):  # signed by us, yet not a verdict: a bug, not the submission's doing
            problems.append(f"line {number} of the outcome log is not a verdict")
            continue
        found[verdict.nodeid] = verdict
    return found, problems


def forbid_ptrace():
    """Make this process undumpable (Linux): same-user processes can no longer read its memory."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_DUMPABLE = 4
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: nothing to do
