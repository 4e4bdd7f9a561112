"""Values crossing between the grader and the sandbox: plain data only.

The sandbox runs student code, so everything it sends back is untrusted. We never unpickle: a
message is length-prefixed JSON whose only non-JSON values are tagged numpy arrays and scalars
(dtype, shape and raw bytes, checked and read with ``np.frombuffer``), tuples and dicts. Anything
else is refused. A message is bounded in bytes, nesting and number of values, so decoding it takes
milliseconds whatever the sender put in it.
Types survive the trip exactly (``float`` stays ``float``, ``np.float64`` stays ``np.float64``)
because the tests check types.

This module runs on both sides: in the sandbox (imported as ``sandboxed.wire``) and in the grader
(``catkit.grading.sandboxed.wire``).
"""

from __future__ import annotations

import base64
import json
import math
import struct
from io import BufferedIOBase
from typing import Any

import numpy as np

Message = dict[str, Any]

MAX_MESSAGE_BYTES = 4 * 1024 * 1024  # this exercise's values are kilobytes
MAX_DEPTH = 32
MAX_VALUES = 100_000  # JSON values in one message
_HEADER = struct.Struct(">Q")
_ARRAY_KINDS = "biufcUS"  # bool, ints, floats, complex, strings: never objects


class WireError(ValueError):
    """A value that cannot cross the sandbox boundary, or a malformed message."""


def _array_payload(array: np.ndarray) -> list[Any]:
    """[dtype, shape, base64 of the raw C-order bytes]: cheap both ways (callbacks make many)."""
    if array.dtype.kind not in _ARRAY_KINDS:
        raise WireError(f"numpy arrays of dtype {array.dtype} cannot be graded; use numbers")
    array = np.asarray(array, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
    return [array.dtype.str, list(array.shape), base64.b64encode(array.tobytes()).decode("ascii")]


def _array(payload: Any) -> np.ndarray:
    """The array described by :func:`_array_payload`, checked field by field (never unpickled)."""
    try:
        dtype_text, shape, data = payload
        dtype = np.dtype(dtype_text) if type(dtype_text) is str and len(dtype_text) <= 8 else None
        raw = base64.b64decode(data, validate=True) if type(data) is str else None
    except (TypeError, ValueError):
        raise WireError("malformed array") from None
    if dtype is None or dtype.kind not in _ARRAY_KINDS or dtype.fields is not None or raw is None:
        raise WireError("malformed array")
    if type(shape) is not list or len(shape) > MAX_DEPTH or not all(type(k) is int and k >= 0 for k in shape):
        raise WireError("malformed array shape")
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise WireError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def encode(value: Any, depth: int = 0) -> Any:
    """Turn ``value`` into JSON-able data, or raise WireError naming the offending type."""
    if depth > MAX_DEPTH:
        raise WireError("value is nested too deeply")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, np.ndarray):  # subclasses (np.matrix) travel as plain arrays
        return {"ndarray": _array_payload(np.asarray(value))}
    if isinstance(value, np.generic):
        return {"npscalar": _array_payload(np.asarray(value))}
    if type(value) is list:
        return [encode(item, depth + 1) for item in value]
    if type(value) is tuple:
        return {"tuple": [encode(item, depth + 1) for item in value]}
    if type(value) is dict:
        if not all(type(key) is str for key in value):
            raise WireError("dict keys must be strings")
        return {"dict": [[key, encode(item, depth + 1)] for key, item in value.items()]}
    kind = type(value)
    raise WireError(f"a value of type {kind.__module__}.{kind.__qualname__} cannot be graded; "
                    "return numpy arrays, numbers, lists, tuples or dicts")


def decode(data: Any, depth: int = 0) -> Any:
    """Inverse of :func:`encode`, strict about everything it accepts."""
    if depth > MAX_DEPTH:
        raise WireError("value is nested too deeply")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode(item, depth + 1) for item in data]
    if type(data) is dict and len(data) == 1:
        (tag, payload), = data.items()
        if tag == "ndarray" and type(payload) is list:
            return _array(payload)
        if tag == "npscalar" and type(payload) is list:
            array = _array(payload)
            if array.ndim != 0:
                raise WireError("malformed numpy scalar")
            return array[()]
        if tag == "tuple" and type(payload) is list:
            return tuple(decode(item, depth + 1) for item in payload)
        if tag == "dict" and type(payload) is list:
            pairs = {}
            for pair in payload:
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                    raise WireError("malformed dict")
                pairs[pair[0]] = decode(pair[1], depth + 1)
            return pairs
    raise WireError("malformed message")


def frame(message: Message) -> bytes:
    """One message (a JSON-able dict) as the bytes to send: length header, then JSON."""
    payload = json.dumps(message).encode("utf-8")
    return _HEADER.pack(len(payload)) + payload


def send(stream: BufferedIOBase, message: Message) -> None:
    """Write one message to a binary stream."""
    stream.write(frame(message))
    stream.flush()


def parse(payload: bytes, strict: bool = True) -> Message:
    """Parse one message body; the result is a dict or WireError is raised. ``strict`` (the
    grader, reading what a sandbox sent) also bounds its size and repairs its text."""
    if len(payload) > MAX_MESSAGE_BYTES:
        raise WireError("message too large")
    try:
        message = json.loads(payload.decode("utf-8"))
    except RecursionError:
        raise WireError(f"message nested more than {MAX_DEPTH} levels deep") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise WireError(f"malformed message: {str(error)[:200]}") from None
    if type(message) is not dict:
        raise WireError("malformed message")
    return _valid_text(message, [MAX_VALUES]) if strict else message


def _valid_text(data: Any, budget: list[int], depth: int = 0) -> Any:
    """``data`` with every string made valid Unicode (JSON escapes can smuggle in lone surrogates,
    which would make nbgrader fail to write the graded notebook); bounded in nesting and size."""
    budget[0] -= 1
    if budget[0] < 0:
        raise WireError(f"message holds more than {MAX_VALUES} values")
    if depth > MAX_DEPTH + 8:  # values nest MAX_DEPTH deep, inside a few levels of envelope
        raise WireError(f"message nested more than {MAX_DEPTH} levels deep")
    if type(data) is str:
        return data.encode("utf-8", "replace").decode("utf-8")
    if type(data) is list:
        return [_valid_text(item, budget, depth + 1) for item in data]
    if type(data) is dict:
        return {_valid_text(key, budget, depth + 1): _valid_text(value, budget, depth + 1)
                for key, value in data.items()}
    return data


def read_header(header: bytes) -> int:
    """Length of the body announced by an 8-byte header."""
    (length,) = _HEADER.unpack(header)
    if length > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {length} bytes is too large")
    return length


def receive(stream: BufferedIOBase) -> Message | None:
    """Blocking read of one message from a binary stream; None at end of stream. Used inside the
    sandboxes, where a message is decoded strictly (:func:`decode`) but not repaired."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    length = read_header(header)
    payload = stream.read(length)
    if len(payload) < length:
        return None
    return parse(payload, strict=False)
