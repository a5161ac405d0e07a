"""The download-frame reader against protobuf's own encoding of the same messages."""

from __future__ import annotations

import pytest

from fedgui.core.protocol.generated import fedn_pb2 as pb
from fedgui.core.protocol.wire import BadFrame, decode_model_response


@pytest.mark.parametrize(
    "message",
    [
        pb.ModelResponse(id="m", data=bytes(range(256)) * 4096, status=pb.IN_PROGRESS),
        pb.ModelResponse(id="m", status=pb.OK),
        pb.ModelResponse(status=pb.FAILED, message="Downloading went wrong"),
        pb.ModelResponse(id="m", data=b"", status=pb.IN_PROGRESS),
        pb.ModelResponse(status=pb.UNKNOWN),
        pb.ModelResponse(),
    ],
)
def test_reads_status_and_data_as_protobuf_does(message):
    frame = decode_model_response(message.SerializeToString())
    assert frame.status == message.status
    assert bytes(frame.data) == message.data


def test_data_is_a_view_into_the_received_bytes_not_a_copy():
    wire = pb.ModelResponse(data=b"x" * 1000, status=pb.IN_PROGRESS).SerializeToString()
    frame = decode_model_response(wire)
    assert isinstance(frame.data, memoryview) and frame.data.obj is wire


def test_unknown_fields_of_every_wire_type_are_skipped():
    known = pb.ModelResponse(id="m", data=b"abc", status=pb.IN_PROGRESS).SerializeToString()
    unknown = (
        bytes([(9 << 3) | 0, 0x96, 0x01])  # varint 150
        + bytes([(10 << 3) | 1])
        + b"\x00" * 8  # fixed64
        + bytes([(11 << 3) | 5])
        + b"\x00" * 4  # fixed32
        + bytes([(12 << 3) | 2, 2])
        + b"zz"  # length-delimited
    )
    frame = decode_model_response(unknown + known + unknown)
    assert frame.status == pb.IN_PROGRESS and bytes(frame.data) == b"abc"
    assert pb.ModelResponse.FromString(unknown + known).data == b"abc"  # protobuf agrees


@pytest.mark.parametrize(
    "wire",
    [
        pb.ModelResponse(data=b"abcdef", status=pb.IN_PROGRESS).SerializeToString()[:-3],  # data cut short
        bytes([(3 << 3) | 0, 0x80]),  # varint without its end
        bytes([(10 << 3) | 1, 0, 0]),  # fixed64 cut short
        bytes([(10 << 3) | 3]),  # group start: not in this message
    ],
)
def test_malformed_frames_are_refused(wire):
    with pytest.raises(BadFrame):
        decode_model_response(wire)


@pytest.mark.parametrize("size", [1, 127, 128, 16383, 16384, 1024 * 1024])
def test_upload_frames_are_byte_for_byte_what_protobuf_writes(size):
    from fedgui.core.protocol.wire import ModelRequestFrames

    sender = pb.Client(role=pb.CLIENT, name="clinic", client_id="c-1")
    data = bytes(range(256)) * (size // 256) + b"\x07" * (size % 256)
    frames = ModelRequestFrames(sender, "upd-1")
    expected = pb.ModelRequest(sender=sender, id="upd-1", data=data, status=pb.IN_PROGRESS)
    assert frames.chunk(data) == expected.SerializeToString()
    last = pb.ModelRequest(sender=sender, id="upd-1", status=pb.OK)
    assert frames.last() == last.SerializeToString()
