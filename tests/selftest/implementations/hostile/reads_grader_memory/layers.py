"""conv_forward_naive looks for the grader's process: its memory (/proc/PID/mem) and its files (/proc/PID/root)
hold the signing key and the answer key. Honest elsewhere."""
import os
from pathlib import Path

from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("conv_forward_naive",)


def _grader_processes():
    for entry in os.listdir("/proc"):
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if entry.isdigit() and int(entry) != os.getpid() and b"pytest" in command:
            yield int(entry)


def conv_forward_naive(x, w, b, conv_param):
    seen = []
    for pid in _grader_processes():
        try:
            with open(f"/proc/{pid}/mem", "rb") as memory:
                seen.append(f"mem of {pid}")
            root = Path(f"/proc/{pid}/root") / Path(f"/proc/{pid}/cwd").resolve().relative_to("/")
            found = {}
            exec((root / "answer_key" / "layers.py").read_text(), found)
            return found["conv_forward_naive"](x, w, b, conv_param)
        except (OSError, ValueError) as error:
            seen.append(f"{pid}: {type(error).__name__}")
    raise RuntimeError(f"the grader's process is out of reach ({seen or 'not visible'})")
