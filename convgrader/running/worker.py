"""The sandboxed side: imports the submission and runs the calls the grader sends.

Started by :mod:`convgrader.running.sandbox` as ``python -I -B -u -c BOOTSTRAP FD IMPL
LIMITS_JSON`` (see :data:`BOOTSTRAP`), never forked from the grader, under bubblewrap
where the machine allows it. Everything here is untrusted once the submission's
code is imported: the grader believes nothing this process says except the values
it returns, and decodes those without pickle.

Order of the start: numpy, every compiled module a submission may use and, in
the model's worker only, the provided fast layers are imported
(:func:`preload`); then no new native code may load
(:mod:`convgrader.running.native_code`), the memory and file-size caps are set,
and only then does any of the submission's code run. Starting the interpreter is
never charged to the submission. The layer functions' worker has no fast code:
its ``reference.fast_layers`` is :mod:`convgrader.running.no_fast_layers`.
"""

import contextlib
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


def _is_array(value):
    """Whether ``value`` is a numpy array (an output, never a cache)."""
    import numpy

    return isinstance(value, numpy.ndarray)

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
        from convgrader.running import wire

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
            with naming_the_graded_call(header.get("name"), header.get("purpose", "graded")):
                result = target(*args, **kwargs)
            from convgrader.assignment import FORWARDS

            if header.get("name") in FORWARDS and isinstance(result, tuple) and len(result) == 2:
                # The cache is opaque: it stays here. A forward that returns (cache, out) keeps its
                # cache too, so that the grader sees the output and names the order.
                if _is_array(result[1]) and not _is_array(result[0]):
                    result = (self.keep(result[0]), result[1])
                else:
                    result = (result[0], self.keep(result[1]))
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
    described = {"code": code, "type": type(error).__name__, "message": (said or message)[:limits.MESSAGE_CHARACTERS],
                 "said": said.to_data() if said is not None else None, "frames": where}
    fields = getattr(error, "fields", None)
    if type(error).__name__ == "FastLayersUnavailable" and isinstance(fields, dict):
        described["fields"] = {str(key)[:100]: str(value)[:100] for key, value in list(fields.items())[:4]}
    return described


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


@contextlib.contextmanager
def naming_the_graded_call(name, purpose):
    """Tell the layer functions' refusing fast layers which graded function runs, for their message.

    Only words depend on it (and a forward run for its cache gets None from
    them): whatever a submission does to it, its worker has no fast code to call.
    """
    fast_layers = sys.modules.get("reference.fast_layers")
    if fast_layers is None or not hasattr(fast_layers, "making_cache"):
        yield
        return
    fast_layers.graded, fast_layers.making_cache = name, purpose == "cache"
    try:
        yield
    finally:
        fast_layers.graded, fast_layers.making_cache = None, False


def preload(role):
    """Import what the worker of ``role`` offers, before no new native code may load.

    Every compiled module a submission may use; in the model's worker also the
    provided fast and sandwich layers (with ``fast_ext``'s kernels). In the layer
    functions' worker ``reference.fast_layers`` is the refusing module: the file
    bound over it at the namespaces level, and registered here as that module at
    every level (at the process level the real file exists, but its kernels can
    no longer be loaded).
    """
    from convgrader.running import native_code

    native_code.preload()
    if role == "model":
        import reference.layer_utils  # noqa: F401 -- loads reference.fast_layers and fast_ext's kernels
        return
    import reference
    from convgrader.running import no_fast_layers

    sys.modules["reference.fast_layers"] = reference.fast_layers = no_fast_layers


def main(argv):
    fd, impl_value, limits = int(argv[1]), argv[2], json.loads(argv[3])
    sock = socket.socket(fileno=fd)
    import numpy  # noqa: F401 -- the infrastructure's start, before the caps

    from convgrader.running import native_code, rules
    from convgrader.running.implementation import resolve

    preload(limits.get("role", "model"))
    native_code.forbid_new_native_code()
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
