"""At import, starts a daemon in a session of its own that kills every other worker it sees and plants
``reference/__init__.py`` in every sandbox folder it can write to, for a minute. Honest otherwise.

The daemon is forked twice, not started as a program: a worker may not run programs (its seccomp
filter refuses ``execve``), but forking is allowed, so the daemon still runs beside the worker."""
import os

from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ()
MARKER = "convgrader-selftest-daemon"

DAEMON = f"""
import glob, os, signal, time
MARKER = {MARKER!r}
end = time.time() + 60
while time.time() < end:
    for entry in os.listdir("/proc"):
        try:
            command = open(f"/proc/{{entry}}/cmdline", "rb").read()
        except OSError:
            continue
        if b"convgrader.running.worker" in command and int(entry) not in (os.getpid(), os.getppid()):
            try:
                os.kill(int(entry), signal.SIGKILL)
            except OSError:
                pass
    for folder in glob.glob("/tmp/convgrader-sandbox-*"):
        try:
            os.makedirs(folder + "/reference", exist_ok=True)
            with open(folder + "/reference/__init__.py", "w") as planted:
                planted.write("raise SystemExit('planted by a neighbour')")
        except OSError:
            pass
    time.sleep(0.2)
"""



def start_daemon():
    """Fork twice, the daemon in a session of its own; the worker goes on at once."""
    child = os.fork()
    if child == 0:
        os.setsid()
        if os.fork() == 0:
            try:
                exec(DAEMON, {"__name__": MARKER})
            finally:
                os._exit(0)
        os._exit(0)
    os.waitpid(child, 0)


start_daemon()
