"""What crosses the sandbox boundary: plain data, exact types, nothing executable."""

import base64
import io
import json

import numpy as np
import pytest

from catkit.grading.sandboxed import wire


@pytest.mark.parametrize("value", [
    None, True, 3, 2.5, "text", [1, 2.0], (1, "a"), {"dw": np.zeros((3, 1)), "db": 0.25},
    np.float64(0.5), np.int64(7), np.bool_(True), np.array(2.0), np.arange(6).reshape(2, 3),
    np.array([[1.0, np.nan, np.inf]]), np.array(["a", "bc"]), ({"w": [np.float32(1)]}, [()]),
])
def test_values_round_trip_with_their_exact_types(value):
    back = wire.decode(json.loads(json.dumps(wire.encode(value))))

    def same(a, b):
        assert type(a) is type(b)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        elif isinstance(a, (list, tuple)):
            assert len(a) == len(b) and all(same(x, y) is None for x, y in zip(a, b, strict=True))
        elif isinstance(a, dict):
            assert list(a) == list(b) and all(same(a[k], b[k]) is None for k in a)
        elif isinstance(a, np.generic):
            assert a.dtype == b.dtype and a == b
        else:
            assert a == b
    same(value, back)


class Liar:
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value", [Liar(), np.array([Liar()], dtype=object), {1: 2}, lambda: 0, {1, 2}])
def test_objects_that_could_lie_are_refused(value):
    with pytest.raises(wire.WireError):
        wire.encode(value)


def _npy(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize("data", [
    {"ndarray": _npy(np.array([{"a": 1}], dtype=object), allow_pickle=True)},  # a pickle: never loaded
    {"ndarray": "not base64 npy"},
    {"npscalar": _npy(np.arange(3))},
    {"dict": [[1, 2]]},
    {"unknown": 1},
    {"a": 1, "b": 2},
    {"tuple": "not a list"},
])
def test_malformed_or_executable_payloads_are_refused(data):
    with pytest.raises(wire.WireError):
        wire.decode(data)


def test_messages_are_framed_and_size_limited():
    stream = io.BytesIO()
    wire.send(stream, {"ok": True, "value": wire.encode(np.ones(3))})
    stream.seek(0)
    assert np.array_equal(wire.decode(wire.receive(stream)["value"]), np.ones(3))
    with pytest.raises(wire.WireError):
        wire.read_header((wire.MAX_MESSAGE_BYTES + 1).to_bytes(8, "big"))
    with pytest.raises(wire.WireError):
        wire.parse(b"[1, 2]")
