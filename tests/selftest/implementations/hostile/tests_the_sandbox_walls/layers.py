"""Each function pushes on one wall of its sandbox, then computes honestly if the wall held.

A wall that gives way makes the function raise "WALL BROKEN: ...", so its part
loses its points and the self-test names the breach; a wall that holds costs
nothing (the attack gains nothing, the honest code scores). The walls (issue 16):

- spatial_batchnorm_forward: writes 300 MB to ``/dev/shm`` and a file into ``/dev``;
- spatial_batchnorm_backward: makes a nested user namespace and mounts a tmpfs in it;
- spatial_groupnorm_forward: starts processes, then threads, until refused;
- spatial_groupnorm_backward: four children each fill 600 MB (run with a small
  memory cap by the self-test: their sum must not fit).
"""
import ctypes
import os
import signal
import threading
import time

from tests.selftest.implementations.vectorized import layers as honest
from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("spatial_batchnorm_forward", "spatial_batchnorm_backward", "spatial_groupnorm_forward",
           "spatial_groupnorm_backward")
#: More than a worker may hold (convgrader.limits.WORKER_TASKS is 32): reaching it is a breach.
BOMB = 64
CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000


class WallBroken(Exception):
    pass


def _writes(path, megabytes):
    """Megabytes written to ``path`` before the first refusal."""
    written = 0
    try:
        with open(path, "wb") as file:
            for _ in range(megabytes):
                file.write(b"\0" * (1 << 20))
                file.flush()
                written += 1
    except OSError:
        pass
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
    return written


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    if os.path.isdir("/dev/shm"):
        held = _writes("/dev/shm/convgrader-wall", 300)
        if held >= 300:
            raise WallBroken(f"WALL BROKEN: /dev/shm took {held} MB")
    if _writes("/dev/convgrader-wall", 1):
        raise WallBroken("WALL BROKEN: /dev is writable")
    return honest.spatial_batchnorm_forward(x, gamma, beta, bn_param)


def spatial_batchnorm_backward(dout, cache):
    libc = ctypes.CDLL(None, use_errno=True)
    pid = os.fork()
    if pid == 0:  # in a child, so the worker itself stays as it was
        code = 0
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0:
            code = 2 if libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) == 0 else 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WEXITSTATUS(status):
        raise WallBroken(f"WALL BROKEN: a nested user namespace was made (and a tmpfs mounted: "
                         f"{os.WEXITSTATUS(status) == 2})")
    return honest.spatial_batchnorm_backward(dout, cache)


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    children = []
    try:
        while len(children) < BOMB:
            pid = os.fork()
            if pid == 0:
                time.sleep(60)
                os._exit(0)
            children.append(pid)
    except OSError:
        pass
    finally:
        for pid in children:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    stop, threads = threading.Event(), []
    try:
        while len(threads) < BOMB:
            thread = threading.Thread(target=stop.wait, daemon=True)
            thread.start()
            threads.append(thread)
    except RuntimeError:
        pass
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    if len(children) >= BOMB or len(threads) >= BOMB:
        raise WallBroken(f"WALL BROKEN: {len(children)} processes and {len(threads)} threads started")
    return honest.spatial_groupnorm_forward(x, gamma, beta, G, gn_param)


def spatial_groupnorm_backward(dout, cache):
    children = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:
            try:
                block = bytearray(600 << 20)
                for start in range(0, len(block), 4096):
                    block[start] = 1
                time.sleep(3)  # all four hold theirs at once
                os._exit(0)
            except MemoryError:
                os._exit(3)
        children.append(pid)
    held = sum(1 for pid in children if os.waitpid(pid, 0)[1] == 0)
    if held == 4:
        raise WallBroken("WALL BROKEN: four children held 600 MB each at once")
    return honest.spatial_groupnorm_backward(dout, cache)
