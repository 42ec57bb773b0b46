"""No new native code once the submission runs: a seccomp filter the worker installs on itself.

The worker loads every compiled module it offers (numpy's, the standard
library's extension modules, and in the model's worker the fast kernels)
and then calls :func:`forbid_new_native_code`. From then on the kernel refuses,
with ``EPERM``, every way to make memory executable: ``mmap`` and ``mprotect``
(and ``pkey_mprotect``) asking for ``PROT_EXEC``, ``memfd_create``, ``shmat``,
``execve``/``execveat`` and ``personality`` (whose READ_IMPLIES_EXEC would turn
a plain mapping executable); and ``ptrace`` and ``process_vm_readv``/``writev``,
so a worker cannot drive another process (at the ``process`` level the model's
worker, with the fast kernels loaded, runs as the same user). So a copy of a ``.so`` in ``/tmp``, a library the
submission shipped or wrote, ctypes' ``dlopen`` and a child interpreter all fail
to load, at every isolation level: the filter is the operating system's, is
inherited by every child and cannot be removed. Calls through the 32-bit and
x32 system-call tables are refused too, so the filter cannot be stepped round.

Only x86-64 Linux kernels with seccomp filters are covered (the grading
machines); elsewhere the function returns False and the threat model says what
that leaves.
"""

import ctypes
import errno
import platform
import struct
import sys

# Classic BPF, as seccomp reads it (linux/filter.h, linux/seccomp.h, linux/audit.h).
_LD_W_ABS = 0x20      # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15         # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x35         # BPF_JMP | BPF_JGE | BPF_K
_JSET_K = 0x45        # BPF_JMP | BPF_JSET | BPF_K
_RET_K = 0x06         # BPF_RET | BPF_K
_ALLOW = 0x7FFF0000   # SECCOMP_RET_ALLOW
_EPERM = 0x00050000 | 1  # SECCOMP_RET_ERRNO | EPERM
_ARCH_X86_64 = 0xC000003E
_X32_BIT = 0x40000000
_PROT_EXEC = 0x4
# seccomp_data: nr (u32) at 0, arch (u32) at 4, ip (u64) at 8, args (6 x u64) from 16.
_NR, _ARCH, _ARG2_LOW = 0, 4, 32
#: x86-64 system calls that map memory and take ``prot`` as their third argument.
_MAPPING = {"mmap": 9, "mprotect": 10, "pkey_mprotect": 329}
#: x86-64 system calls refused outright.
_REFUSED = {"memfd_create": 319, "shmat": 30, "execve": 59, "execveat": 322, "personality": 135,
            "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311}
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2


def _program():
    """The filter as a list of (code, jt, jf, k); jumps count instructions after the next one."""
    deny, allow = "deny", "allow"
    body = [(_LD_W_ABS, 0, 0, _ARCH), (_JEQ_K, 0, deny, _ARCH_X86_64),
            (_LD_W_ABS, 0, 0, _NR), (_JGE_K, deny, 0, _X32_BIT)]
    body += [(_JEQ_K, "prot", 0, number) for number in _MAPPING.values()]
    body += [(_JEQ_K, deny, 0, number) for number in _REFUSED.values()]
    body += [(_RET_K, 0, 0, _ALLOW)]
    labels = {"prot": len(body)}
    body += [(_LD_W_ABS, 0, 0, _ARG2_LOW), (_JSET_K, deny, allow, _PROT_EXEC)]
    labels[allow] = len(body)
    body += [(_RET_K, 0, 0, _ALLOW)]
    labels[deny] = len(body)
    body += [(_RET_K, 0, 0, _EPERM)]
    resolved = []
    for index, (code, jt, jf, k) in enumerate(body):
        jump = [labels[t] - index - 1 if isinstance(t, str) else t for t in (jt, jf)]
        resolved.append((code, jump[0], jump[1], k))
    return resolved


def supported():
    return sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")


def forbid_new_native_code():
    """Install the filter on this process (and so on every child it makes); True when installed.

    Raises
    ------
    OSError
        When the kernel refuses a filter it should take (the worker then does not start: grading failed).
    """
    if not supported():
        return False
    instructions = b"".join(struct.pack("HBBI", *instruction) for instruction in _program())
    buffer = ctypes.create_string_buffer(instructions)
    count = len(instructions) // 8

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    program = SockFprog(count, ctypes.addressof(buffer))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0 or \
            libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(program), 0, 0) != 0:
        error = ctypes.get_errno()
        if error == errno.EINVAL:  # a kernel built without seccomp filters: as on another platform
            return False
        raise OSError(error, f"the seccomp filter could not be installed (errno {error})")
    return True


#: numpy's submodules with compiled parts that numpy may import lazily (pure-Python ones import
#: fine under the filter and are left to the submission).
NUMPY_MODULES = ("numpy.linalg", "numpy.fft", "numpy.random")
#: Standard-library extension modules whose import has side effects or needs a display: left out.
SKIPPED = frozenset({"_tkinter", "readline", "_curses", "_curses_panel", "_testcapi", "_testinternalcapi",
                     "_testbuffer", "_testimportmultiple", "_testmultiphase", "_xxtestfuzz", "xxlimited",
                     "xxlimited_35", "_xxsubinterpreters", "_ctypes_test", "xxsubtype", "_testclinic"})


def _stdlib_extension_folders():
    """The folders of the standard library's extension modules (``lib-dynload``).

    In a virtual environment (tox's, the Gradescope bundle's) sysconfig's
    ``platstdlib`` names the environment, which has no such folder: the one on
    ``sys.path`` is the base interpreter's.
    """
    import os
    import sys
    import sysconfig

    candidates = [path for path in sys.path if os.path.basename(path) == "lib-dynload"]
    for variables in ({}, {"platbase": sys.base_exec_prefix}):
        candidates.append(os.path.join(sysconfig.get_path("platstdlib", vars=variables), "lib-dynload"))
    found = []
    for path in candidates:
        if os.path.isdir(path) and os.path.realpath(path) not in map(os.path.realpath, found):
            found.append(path)
    return found


def preload():
    """Import every compiled module a submission may use, before :func:`forbid_new_native_code`.

    numpy with its compiled submodules, and every extension module of the
    standard library (``math``, ``_random``, ``_pickle``, ...), so that an honest
    ``import`` inside a submission finds them loaded. Modules that fail to load
    here (a library the machine lacks) are skipped: they would fail anyway.
    """
    import importlib
    import importlib.machinery
    import os

    names = list(NUMPY_MODULES)
    for dynload in _stdlib_extension_folders():
        for entry in sorted(os.listdir(dynload)):
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                if entry.endswith(suffix) and entry[:-len(suffix)] not in SKIPPED:
                    names.append(entry[:-len(suffix)])
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 -- a module this machine cannot load is not offered
            pass
