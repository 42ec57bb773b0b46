"""Tries every way around open() to get the answer key's conv_forward_naive; honest elsewhere."""
import ctypes
import gc
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("conv_forward_naive",)

# Where the key sits in a checkout, found without importing anything of the harness.
PROJECT = Path(__import__("reference").__file__).resolve().parents[1]
KEY = PROJECT / "answer_key" / "layers.py"


def _blind_the_audit_hook():
    """Empty every list that looks like the worker's record of tampering."""
    for thing in gc.get_objects():
        if isinstance(thing, list) and thing and all(isinstance(e, str) and "(" in e for e in thing[:3]):
            thing.clear()


def _by_cat():
    return subprocess.run(["cat", str(KEY)], capture_output=True, text=True, timeout=10).stdout


def _by_os_system():
    copy = Path(tempfile.mkdtemp()) / "k.py"
    os.system(f"cp {KEY} {copy} 2>/dev/null")
    return copy.read_text() if copy.exists() else ""


def _by_hard_link():
    link = Path(tempfile.mkdtemp()) / "k.py"
    os.link(KEY, link)
    return link.read_text()


def _by_dir_fd():
    folder = os.open(KEY.parent, os.O_RDONLY)
    fd = os.open(KEY.name, os.O_RDONLY, dir_fd=folder)
    return os.read(fd, 1 << 20).decode()


def _by_ctypes():
    libc = ctypes.CDLL(None)
    fd = libc.open(str(KEY).encode(), os.O_RDONLY)
    buffer = ctypes.create_string_buffer(1 << 20)
    count = libc.read(fd, buffer, 1 << 20)
    return buffer.raw[:max(count, 0)].decode()


def _by_pyc():
    import marshal
    for pyc in (KEY.parent / "__pycache__").glob("layers.*.pyc"):
        return marshal.loads(pyc.read_bytes()[16:])
    return ""


def _by_faked_realpath():
    os.path.realpath = lambda path, **_: "/nothing/to/see"
    return KEY.read_text()


def conv_forward_naive(x, w, b, conv_param):
    _blind_the_audit_hook()
    failures = []
    for attempt in (_by_cat, _by_os_system, _by_hard_link, _by_dir_fd, _by_ctypes, _by_pyc, _by_faked_realpath):
        try:
            source = attempt()
        except Exception as error:  # noqa: BLE001 -- every failure is the point
            failures.append(f"{attempt.__name__}: {type(error).__name__}")
            continue
        if source:
            found = {}
            exec(source if not isinstance(source, str) else compile(source, "key", "exec"), found)
            _blind_the_audit_hook()
            return found["conv_forward_naive"](x, w, b, conv_param)
        failures.append(f"{attempt.__name__}: nothing")
    raise RuntimeError("no way to the answer key: " + ", ".join(failures))
