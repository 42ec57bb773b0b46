"""A safe wire format between the grader and the sandboxed submission.

The grading process must never unpickle what the submission's process sends:
unpickling runs code. Messages are therefore JSON describing the structure,
followed by numpy arrays in the ``.npy`` format read with
``allow_pickle=False``. What cannot be encoded this way (a model object, a
cache holding a closure) stays in the sandbox and travels as a
:class:`Handle`.

Frame: 8-byte big-endian header length, JSON header, then each array's
``.npy`` bytes, their lengths listed in the header.

Reading is bounded in time and size (:func:`receive`): every size is checked
against its cap before a byte is allocated for it, bytes go straight into one
buffer of the announced size, and arrays are views of that buffer, so a reply
costs the grader about its own size and never more than ``max_bytes``; a peer
that sends part of a message and stops is a :class:`WireTimeout`, not a hang.
"""

import io
import json
import socket
import struct
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from convgrader import limits

_LENGTH = struct.Struct(">Q")


class Handle:
    """An object kept in the sandbox, named by its id there."""

    __slots__ = ("id", "type_name")

    def __init__(self, id: int, type_name: str) -> None:
        self.id = id
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name} in the sandbox #{self.id}>"


class WireError(Exception):
    """A malformed message."""


class WireOversized(WireError):
    """A message larger than its cap, refused before it was read."""

    def __init__(self, what: str, size: int, cap: int) -> None:
        super().__init__(f"{what} of {size:,} bytes, more than the {cap:,} allowed")
        self.size, self.cap = size, cap


class WireTimeout(WireError):
    """No complete message before the deadline (nothing, or only part of one, arrived)."""


def encode(value: Any, blobs: list[bytes], keep: Callable[[Any], Handle] | None) -> Any:
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


def decode(description: Any, blobs: list[bytearray], resolve: Callable[[Handle], Any]) -> Any:
    """Rebuild a value from its description; ``resolve`` turns a handle description into an object."""
    kind = description.get("t")
    if kind == "v" or kind in ("int", "float"):
        return description["v"]
    if kind == "nd":
        array = _array_view(blobs[description["i"]])
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


def _hashable(key: Any) -> Any:
    return key.item() if isinstance(key, np.ndarray) and key.ndim == 0 else key


def send(sock: socket.socket, header: dict[str, Any], blobs: Sequence[bytes] = ()) -> None:
    """Send one message: a JSON-able ``header`` and the arrays' bytes."""
    header = dict(header, blob_sizes=[len(b) for b in blobs])
    data = json.dumps(header).encode()
    sock.sendall(_LENGTH.pack(len(data)) + data + b"".join(blobs))


def receive(sock: socket.socket, deadline: float | None = None,
            max_bytes: int = limits.MESSAGE_BYTES) -> tuple[dict[str, Any], list[bytearray]]:
    """Read one message; returns (header, blobs).

    Parameters
    ----------
    sock : socket.socket
    deadline : float, optional
        ``time.monotonic()`` by which the whole message must have arrived.
    max_bytes : int
        Cap of the message's arrays together; the header's cap is the smaller
        of ``limits.HEADER_BYTES`` and this.

    Raises
    ------
    EOFError
        The peer is gone.
    WireTimeout
        The deadline passed before the message was complete.
    WireOversized
        A size over its cap was announced (nothing of that part was read).
    WireError
        The message is malformed.
    """
    size = _LENGTH.unpack(_read_exactly(sock, _LENGTH.size, deadline))[0]
    if size > min(limits.HEADER_BYTES, max_bytes):
        raise WireOversized("a message header", size, min(limits.HEADER_BYTES, max_bytes))
    try:
        header = json.loads(_read_exactly(sock, size, deadline))
    except (ValueError, RecursionError) as error:
        raise WireError(f"an unreadable message header ({type(error).__name__})") from None
    sizes = header.pop("blob_sizes", []) if isinstance(header, dict) else None
    if not isinstance(sizes, list) or not all(type(n) is int and n >= 0 for n in sizes):
        raise WireError("a message without valid array sizes")
    if sum(sizes) > max_bytes:
        raise WireOversized("arrays", sum(sizes), max_bytes)
    return header, [_read_exactly(sock, n, deadline) for n in sizes]


def _read_exactly(sock: socket.socket, count: int, deadline: float | None = None) -> bytearray:
    """``count`` bytes into one buffer of that size, by ``deadline`` (``time.monotonic()``)."""
    buffer = bytearray(count)
    view, filled = memoryview(buffer), 0
    try:
        while filled < count:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WireTimeout(f"only {filled:,} of {count:,} bytes arrived in time")
                sock.settimeout(left)
            received = sock.recv_into(view[filled:], min(count - filled, 1 << 22))
            if not received:
                raise EOFError("the other side closed the channel")
            filled += received
    except socket.timeout:
        raise WireTimeout(f"only {filled:,} of {count:,} bytes arrived in time") from None
    finally:
        if deadline is not None:
            sock.settimeout(None)
    return buffer


def _array_view(blob: bytearray) -> np.ndarray:
    """The array in ``.npy`` bytes, as a view of them (no copy); never unpickles."""
    stream = io.BytesIO(blob)
    try:
        version = np.lib.format.read_magic(stream)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read_header is None:
            raise ValueError(f".npy version {version}")
        shape, fortran, dtype = read_header(stream)
    except ValueError as error:
        raise WireError(f"an unreadable array ({error})") from None
    if dtype.hasobject:
        raise WireError("an array of Python objects")
    count = 1
    for length in shape:
        count *= length
    offset = stream.tell()
    if count * dtype.itemsize != len(blob) - offset:
        raise WireError(f"an array of shape {shape} and dtype {dtype} in {len(blob) - offset} bytes")
    flat = np.frombuffer(blob, dtype=dtype, count=count, offset=offset)
    return flat.reshape(shape[::-1]).T if fortran else flat.reshape(shape)
