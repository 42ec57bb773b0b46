"""A safe wire format between the grader and the sandboxed submission.

The grading process must never unpickle what the submission's process sends:
unpickling runs code. Messages are therefore JSON describing the structure,
followed by numpy arrays in the ``.npy`` format read with
``allow_pickle=False``. What cannot be encoded this way (a model object, a
cache holding a closure) stays in the sandbox and travels as a
:class:`Handle`.

Frame: 8-byte big-endian header length, JSON header, then each array's
``.npy`` bytes, their lengths listed in the header.
"""

import io
import json
import struct

import numpy as np

#: Largest message accepted from the sandbox: a submission cannot exhaust the
#: grader's memory through the channel.
MAX_MESSAGE_BYTES = 1 << 30
_LENGTH = struct.Struct(">Q")


class Handle:
    """An object kept in the sandbox, named by its id there."""

    __slots__ = ("id", "type_name")

    def __init__(self, id, type_name):
        self.id = id
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} in the sandbox #{self.id}>"


class WireError(Exception):
    """A malformed or oversized message."""


def encode(value, blobs, keep):
    """The JSON description of ``value``; arrays go to ``blobs``.

    Parameters
    ----------
    value : object
    blobs : list of bytes
        Receives the ``.npy`` bytes of every array, in order.
    keep : callable or None
        Called with an object that cannot be encoded; returns the
        :class:`Handle` that replaces it. None refuses such objects.
    """
    if value is None or isinstance(value, (bool, str)):
        return {"t": "v", "v": value}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"t": "int" if isinstance(value, int) else "float", "v": value}
    if isinstance(value, np.generic) and value.dtype.kind in "biufc":
        return encode(np.asarray(value), blobs, keep) | {"scalar": True}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        blobs.append(buffer.getvalue())
        return {"t": "nd", "i": len(blobs) - 1}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        # dtype=np.float32 travels as itself: a scalar type stays a type, a dtype a dtype.
        return {"t": "dtype", "v": np.dtype(value).str, "type": isinstance(value, type)}
    if isinstance(value, Handle):
        return {"t": "h", "id": value.id, "type": value.type_name}
    if type(value) in (tuple, list):
        return {"t": type(value).__name__, "v": [encode(v, blobs, keep) for v in value]}
    if type(value) is dict:
        return {"t": "dict", "v": [[encode(k, blobs, keep), encode(v, blobs, keep)] for k, v in value.items()]}
    if keep is None:
        raise WireError(f"cannot send a {type(value).__name__}")
    return encode(keep(value), blobs, None)


def decode(description, blobs, resolve):
    """Rebuild a value from its description; ``resolve`` turns a handle description into an object."""
    kind = description.get("t")
    if kind == "v" or kind in ("int", "float"):
        return description["v"]
    if kind == "nd":
        array = np.load(io.BytesIO(blobs[description["i"]]), allow_pickle=False)
        return array[()] if description.get("scalar") else array
    if kind == "dtype":
        dtype = np.dtype(description["v"])
        return dtype.type if description.get("type") else dtype
    if kind == "h":
        return resolve(Handle(description["id"], description.get("type", "object")))
    if kind in ("tuple", "list"):
        items = [decode(v, blobs, resolve) for v in description["v"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {_hashable(decode(k, blobs, resolve)): decode(v, blobs, resolve) for k, v in description["v"]}
    raise WireError(f"unknown kind {kind!r}")


def _hashable(key):
    return key.item() if isinstance(key, np.ndarray) and key.ndim == 0 else key


def send(sock, header, blobs=()):
    """Send one message: a JSON-able ``header`` and the arrays' bytes."""
    header = dict(header, blob_sizes=[len(b) for b in blobs])
    data = json.dumps(header).encode()
    sock.sendall(_LENGTH.pack(len(data)) + data + b"".join(blobs))


def receive(sock):
    """Read one message; returns (header, blobs). Raises EOFError when the peer is gone."""
    size = _LENGTH.unpack(_read_exactly(sock, _LENGTH.size))[0]
    if size > MAX_MESSAGE_BYTES:
        raise WireError(f"message header of {size} bytes")
    header = json.loads(_read_exactly(sock, size))
    sizes = header.pop("blob_sizes", [])
    if not isinstance(sizes, list) or sum(sizes) > MAX_MESSAGE_BYTES:
        raise WireError("oversized message")
    return header, [_read_exactly(sock, n) for n in sizes]


def _read_exactly(sock, count):
    chunks, remaining = [], count
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
