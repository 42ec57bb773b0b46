"""The sandboxed side: imports the submission and runs the calls the grader sends.

Started by :mod:`convgrader.running.sandbox` as ``python -I -B -u -c BOOTSTRAP FD IMPL
LIMITS_JSON`` (see :data:`BOOTSTRAP`), never forked from the grader, under bubblewrap
where the machine allows it. Everything here is untrusted once the submission's
code is imported: the grader believes nothing this process says except the values
it returns, and decodes those without pickle.

Order of the start: numpy and the provided fast layers are imported and guarded
(:mod:`convgrader.running.rules`) before the memory and file-size caps are set
and before any of the submission's code runs, so starting the interpreter is
never charged to the submission and the submission only ever sees guarded names.
"""

import json
import os
import socket
import sys
import traceback

from convgrader import limits

#: Modules the submission may not import; reading their files is recorded as tampering.
FORBIDDEN_MODULES = ("answer_key",)


def apply_limits(limits):
    """Cap memory, file size and core dumps, soft and hard, before any submission code runs."""
    import resource

    caps = {"RLIMIT_CORE": 0, "RLIMIT_AS": limits.get("memory_bytes"),
            "RLIMIT_FSIZE": limits.get("file_bytes")}
    for name, value in caps.items():
        if value is not None and hasattr(resource, name):
            try:
                resource.setrlimit(getattr(resource, name), (value, value))
            except (ValueError, OSError):
                pass  # a platform that refuses the cap keeps its own


class AnswerKeyBlocker:
    """A meta path finder refusing the answer key, and recording the attempt."""

    def __init__(self, events):
        self.events = events

    def find_spec(self, name, path=None, target=None):
        if any(name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES):
            self.events.append(f"import of {name}")
            raise ImportError(f"{name} is not available to submissions")
        return None


def watch_files(events, protected):
    """Record opening any protected path (the answer key, the fixtures for writing)."""
    def hook(event, args):
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.path.realpath(os.fsdecode(args[0]))
            mode = args[1] if len(args) > 1 and isinstance(args[1], str) else "r"
            for root, writes_only in protected:
                if path.startswith(root) and (not writes_only or any(c in mode for c in "wax+")):
                    events.append(f"open({path!r}, {mode!r})")
    sys.addaudithook(hook)


class Worker:
    """Holds the submission's objects and answers the grader's requests."""

    def __init__(self, impl):
        self.impl = impl
        self.objects = {}
        self.next_id = 0
        self.tamper_events = []

    def folder(self):
        """The implementation's folder, from which its files are named as the student knows them."""
        module = sys.modules.get(getattr(self.impl, "package", "") or "")
        locations = list(getattr(module, "__path__", None) or [])
        return locations[0] if locations else None

    def keep(self, value):
        from convgrader.running.wire import Handle

        self.next_id += 1
        self.objects[self.next_id] = value
        return Handle(self.next_id, type(value).__name__)

    def resolve(self, handle):
        if handle.id not in self.objects:
            raise LookupError("this object no longer exists in the sandbox (it restarted after a failure)")
        return self.objects[handle.id]

    def handle(self, header, blobs):
        from convgrader.running import rules, wire

        op = header["op"]
        if op == "ping":
            return None, {}
        if op == "lookup":
            return self.keep(self.impl.get(header["name"])), {}
        target = self.resolve(wire.Handle(header["handle"], ""))
        args = [wire.decode(a, blobs, self.resolve) for a in header.get("args", [])]
        if op == "call":
            kwargs = dict(wire.decode(header["kwargs"], blobs, self.resolve)) if "kwargs" in header else {}
            before = [a.copy() if hasattr(a, "copy") and hasattr(a, "dtype") else None for a in args]
            graded = header.get("name") if header.get("purpose", "graded") == "graded" else None
            with rules.graded_call(graded):
                result = target(*args, **kwargs)
            from convgrader.assignment import FORWARDS

            if header.get("name") in FORWARDS and isinstance(result, tuple) and len(result) == 2:
                result = (result[0], self.keep(result[1]))  # the cache is opaque: it stays here
            return result, self.changed_arguments(args, before)
        if op == "getattr":
            value = getattr(target, args[0])
            return (self.keep(value) if isinstance(value, dict) or callable(value) else value), {}
        if op == "setattr":
            setattr(target, args[0], args[1])
            return None, {}
        if op == "getitem":
            return target[args[0]], {}
        if op == "setitem":
            target[args[0]] = args[1]
            return None, {}
        if op == "keys":
            return list(target.keys()) if hasattr(target, "keys") else list(target), {}
        raise ValueError(f"unknown operation {op!r}")

    @staticmethod
    def changed_arguments(args, before):
        """The final state of array arguments the call changed, and of every dict argument."""
        import numpy as np

        changed = {}
        for index, (arg, old) in enumerate(zip(args, before)):
            if isinstance(arg, dict):
                changed[index] = arg
            elif old is not None and not np.array_equal(arg, old, equal_nan=True):
                changed[index] = arg
        return changed

    def serve(self, sock):
        from convgrader.running import wire

        while True:
            try:
                header, blobs = wire.receive(sock)
            except EOFError:
                return
            try:
                result, changed = self.handle(header, blobs)
                out = []
                reply = {"ok": wire.encode(result, out, self.keep),
                         "changed": [[i, wire.encode(v, out, self.keep)] for i, v in changed.items()]}
            except BaseException as error:  # noqa: B902 -- sys.exit, KeyboardInterrupt: all are the submission's
                out, reply = [], {"error": describe(error, self.folder())}
            reply["tamper"] = self.tamper_events[:limits.TAMPER_EVENTS_SENT]
            wire.send(sock, reply, out)


#: What an error is, as the wire says it: a code, never a type name the grader would have to match.
RAISED, NOT_IMPLEMENTED, UNAVAILABLE = "raised", "not implemented", "unavailable"
ERROR_CODES = (RAISED, NOT_IMPLEMENTED, UNAVAILABLE)


def describe(error, folder=None):
    """What the call raised, for the wire: its code, type name, message and the submission's frames.

    ``said`` carries the harness's own message as data (``Said.to_data``), for the
    grader to say in its reader's language; the rest is the submission's text.
    """
    from convgrader.messages import Said, say
    from convgrader.running.implementation import ImplementationUnavailable

    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if "convgrader" not in f.filename and "importlib" not in f.filename]
    # The student's files as they know them (layers.py, classifiers/cnn.py), never the sandbox's paths.
    where = [[shown_file(f.filename, folder), f.lineno, f.name, (f.line or "").strip()] for f in frames[-4:]]
    message, said = str(error), None
    if isinstance(error, SystemExit):
        said = say("called_exit", code=repr(error.code))
    elif isinstance(error, KeyboardInterrupt):
        said = say("raised_interrupt")
    code = RAISED
    if isinstance(error, ImplementationUnavailable):
        code = UNAVAILABLE
        said = error.args[0] if error.args and isinstance(error.args[0], Said) else None
    elif isinstance(error, NotImplementedError):
        code = NOT_IMPLEMENTED
    return {"code": code, "type": type(error).__name__, "message": (said or message)[:limits.MESSAGE_CHARACTERS],
            "said": said.to_data() if said is not None else None, "frames": where}


def shown_file(filename, folder):
    """``filename`` relative to the implementation's ``folder`` when inside it, else its last part."""
    if folder:
        relative = os.path.relpath(filename, folder)
        if not relative.startswith(".."):
            return relative.replace(os.sep, "/")
    return os.path.basename(filename)


#: The ``-c`` program that starts a worker in isolated mode (``python -I``: no
#: PYTHON* variables, no user site, and neither the working folder nor a script's
#: folder on sys.path, so nothing planted there can shadow a module). Its first
#: argument after the socket is the list of folders to import the harness from.
BOOTSTRAP = ("import json, sys; sys.path[:0] = json.loads(sys.argv[1]); del sys.argv[1]; "
             "from convgrader.running.worker import main; main(sys.argv)")


def main(argv):
    fd, impl_value, limits = int(argv[1]), argv[2], json.loads(argv[3])
    sock = socket.socket(fileno=fd)
    import numpy  # noqa: F401 -- the infrastructure's start, before the caps

    from convgrader.running import rules
    from convgrader.running.implementation import resolve

    rules.guard_fast_layers()
    apply_limits(limits)
    worker = Worker(resolve(impl_value))
    if limits.get("block_answer_key", True):
        sys.meta_path.insert(0, AnswerKeyBlocker(worker.tamper_events))
    if limits.get("import_rule", True):
        rules.ImportRule(worker.impl.package, worker.tamper_events).install()
    watch_files(worker.tamper_events, [(p, w) for p, w in limits.get("protected", [])])
    worker.serve(sock)


if __name__ == "__main__":
    main(sys.argv)
