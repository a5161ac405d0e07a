"""Model transfer frames as wire bytes: reads download frames, writes upload frames.

A model arrives as ~1 MiB frames. Decoding one with protobuf copies its data twice (into the
message, then again on every read of ``.data``); on a shared machine those copies cost a
noticeable share of the download. This reader returns the data as a view into the bytes gRPC
received, so the only copy left is the one into the file. It reads the standard protobuf
encoding (field numbers from fedn.proto); the frames on the wire are exactly those of FEDn.

ModelResponse: 1 data (bytes), 2 id (string), 3 status (ModelStatus), 4 message (string).
ModelRequest: 1 sender (Client), 2 receiver (Client), 3 data (bytes), 4 id (string), 5 status.
"""

from __future__ import annotations

from typing import NamedTuple

from fedgui.core.protocol.generated import fedn_pb2 as pb

_DATA, _STATUS = 1, 3
_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5
_EMPTY = memoryview(b"")


class Frame(NamedTuple):
    status: int  # a fedn ModelStatus value; 0 (OK) when the field is absent, as protobuf reads it
    data: memoryview  # empty when absent


class BadFrame(ValueError):
    """The bytes are not a well-formed ModelResponse."""


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise BadFrame("truncated or overlong varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def decode_model_response(buf: bytes) -> Frame:
    """Status and data of one frame; other fields (id, message, unknown ones) are skipped."""
    view = memoryview(buf)
    status, data, pos, end = 0, _EMPTY, 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            value, pos = _varint(buf, pos)
            if number == _STATUS:
                status = value
        elif wire_type == _LENGTH:
            length, pos = _varint(buf, pos)
            if pos + length > end:
                raise BadFrame("field runs past the end of the frame")
            if number == _DATA:
                data = view[pos : pos + length]  # protobuf: the last occurrence wins
            pos += length
        elif wire_type == _FIXED64:
            pos += 8
        elif wire_type == _FIXED32:
            pos += 4
        else:
            raise BadFrame(f"unsupported wire type {wire_type}")
    if pos != end:
        raise BadFrame("truncated fixed-size field")
    return Frame(status, data)


# ---- upload frames ----

_DATA_KEY = bytes([(3 << 3) | _LENGTH])  # ModelRequest.data (field 3), length-delimited


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class ModelRequestFrames:
    """Encodes upload frames (``fedn.ModelRequest``) for one model, byte for byte as protobuf does.

    Protobuf writes fields in number order: sender (1), data (3), id (4), status (5). The parts
    around the data are the same in every frame, so they are encoded once and each frame is one
    join: one copy of the chunk instead of two (into the message, then out of it).
    """

    def __init__(self, sender: pb.Client, model_id: str) -> None:
        self._head = pb.ModelRequest(sender=sender).SerializeToString()
        self._tail = pb.ModelRequest(id=model_id, status=pb.IN_PROGRESS).SerializeToString()
        self._last: bytes = pb.ModelRequest(sender=sender, id=model_id, status=pb.OK).SerializeToString()

    def chunk(self, data: bytes) -> bytes:
        """An IN_PROGRESS frame carrying ``data`` (not empty)."""
        return b"".join((self._head, _DATA_KEY, _encode_varint(len(data)), data, self._tail))

    def last(self) -> bytes:
        """The closing OK frame, without data (the combiner's rule)."""
        return self._last
