"""Our fedn.proto against the wire facts (fedn-client-protocol.md §3.1-3.3), and the committed
stubs against the .proto."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from fedgui.core.protocol import generated
from fedgui.core.protocol.generated import fedn_pb2 as pb

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "fedgui" / "core" / "protocol" / "generated"
F = descriptor_pb2.FieldDescriptorProto


def _file_proto(module) -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(proto)
    return proto


def test_generated_files_are_up_to_date(tmp_path):
    pytest.importorskip("grpc_tools", reason="grpcio-tools (dev extra) regenerates the stubs")
    subprocess.run([sys.executable, str(ROOT / "tools" / "gen_proto"), "--out", str(tmp_path)], check=True)
    names = ["__init__.py", "fedn_pb2.py", "fedn_pb2.pyi", "fedn_pb2_grpc.py"]
    fresh_init = (tmp_path / "__init__.py").read_text()
    if fresh_init == (GENERATED / "__init__.py").read_text():
        stale = [n for n in names if (tmp_path / n).read_text() != (GENERATED / n).read_text()]
        assert not stale, f"{stale} differ from fedn.proto: run tools/gen_proto and commit the result"
        return
    # Another grpcio-tools version formats differently; then compare what goes on the wire.
    fresh = _serialized_descriptor(tmp_path / "fedn_pb2.py")
    assert fresh == _serialized_descriptor(GENERATED / "fedn_pb2.py"), "run tools/gen_proto and commit"


def _serialized_descriptor(path: Path) -> bytes:
    """The descriptor bytes a generated module registers, read without importing it twice."""
    text = path.read_text()
    start = text.index("AddSerializedFile(") + len("AddSerializedFile(")
    end = text.index(")\n", start)
    return ast.literal_eval(text[start:end])  # a bytes literal written by protoc


def test_generated_code_has_no_protobuf_runtime_pin_and_a_relative_import():
    messages = (GENERATED / "fedn_pb2.py").read_text()
    services = (GENERATED / "fedn_pb2_grpc.py").read_text()
    assert "ValidateProtobufRuntimeVersion" not in messages
    assert "from . import fedn_pb2 as fedn__pb2" in services
    assert "GRPC_GENERATED_VERSION = '1.63.0'" in services
    assert generated.GENERATED_WITH.startswith("grpcio-tools ")


def test_package_and_no_language_options():
    proto = _file_proto(pb)
    assert proto.package == "fedn"
    assert proto.syntax == "proto3"
    assert not proto.options.HasField("go_package")


ENUMS = {
    "StatusType": {
        "LOG": 0, "MODEL_UPDATE_REQUEST": 1, "MODEL_UPDATE": 2, "MODEL_VALIDATION_REQUEST": 3,
        "MODEL_VALIDATION": 4, "MODEL_PREDICTION": 5, "NETWORK": 6, "FORWARD_REQUEST": 7,
        "FORWARD": 8, "BACKWARD_REQUEST": 9, "BACKWARD": 10,
    },
    "LogLevel": {"NONE": 0, "INFO": 1, "DEBUG": 2, "WARNING": 3, "ERROR": 4, "AUDIT": 5},
    "Role": {"OTHER": 0, "CLIENT": 1, "COMBINER": 2, "REDUCER": 3},
    "ModelStatus": {"OK": 0, "IN_PROGRESS": 1, "IN_PROGRESS_OK": 2, "FAILED": 3, "UNKNOWN": 4},
}  # fmt: skip


@pytest.mark.parametrize("enum_name", sorted(ENUMS))
def test_enum_numbers_are_the_fedn_0_20_plus_ones(enum_name):
    enum = pb.DESCRIPTOR.enum_types_by_name[enum_name]
    assert {v.name: v.number for v in enum.values} == ENUMS[enum_name]


S, B, FL, U32, E, M = F.TYPE_STRING, F.TYPE_BYTES, F.TYPE_FLOAT, F.TYPE_UINT32, F.TYPE_ENUM, F.TYPE_MESSAGE
TS, WRAP = ".google.protobuf.Timestamp", ".google.protobuf.UInt32Value"
C = (M, ".fedn.Client")
MESSAGES = {
    "Client": {"role": (1, E, ".fedn.Role"), "name": (2, S), "client_id": (3, S)},
    "Response": {"sender": (1, *C), "response": (2, S)},
    "Status": {
        "sender": (1, *C), "status": (2, S), "log_level": (3, E, ".fedn.LogLevel"), "data": (4, S),
        "correlation_id": (5, S), "timestamp": (6, M, TS), "type": (7, E, ".fedn.StatusType"),
        "extra": (8, S), "session_id": (9, S),
    },
    "TaskRequest": {
        "sender": (1, *C), "receiver": (2, *C), "model_id": (3, S), "data": (4, S),
        "correlation_id": (5, S), "timestamp": (6, S), "meta": (7, S), "session_id": (8, S),
        "type": (9, E, ".fedn.StatusType"),
    },
    "ModelUpdate": {
        "sender": (1, *C), "receiver": (2, *C), "model_id": (3, S), "model_update_id": (4, S),
        "correlation_id": (5, S), "timestamp": (6, S), "meta": (7, S), "config": (8, S),
    },
    "ModelValidation": {
        "sender": (1, *C), "receiver": (2, *C), "model_id": (3, S), "data": (4, S),
        "correlation_id": (5, S), "timestamp": (6, M, TS), "meta": (7, S), "session_id": (8, S),
    },
    "ModelPrediction": {
        "sender": (1, *C), "receiver": (2, *C), "model_id": (3, S), "data": (4, S),
        "correlation_id": (5, S), "timestamp": (6, M, TS), "meta": (7, S), "prediction_id": (8, S),
    },
    "BackwardCompletion": {
        "sender": (1, *C), "receiver": (2, *C), "gradient_id": (3, S), "correlation_id": (4, S),
        "session_id": (5, S), "timestamp": (6, M, TS), "meta": (7, S),
    },
    "ModelMetric": {
        "sender": (1, *C), "metrics": (2, M, ".fedn.MetricElem", "repeated"), "timestamp": (3, M, TS),
        "step": (4, M, WRAP), "model_id": (5, S), "round_id": (6, S), "session_id": (7, S),
    },
    "MetricElem": {"key": (1, S), "value": (2, FL)},
    "AttributeMessage": {
        "sender": (1, *C), "attributes": (2, M, ".fedn.AttributeElem", "repeated"), "timestamp": (3, M, TS),
    },
    "AttributeElem": {"key": (1, S), "value": (2, S)},
    "TelemetryMessage": {
        "sender": (1, *C), "telemetries": (2, M, ".fedn.TelemetryElem", "repeated"), "timestamp": (3, M, TS),
    },
    "TelemetryElem": {"key": (1, S), "value": (2, FL)},
    "ModelRequest": {
        "sender": (1, *C), "receiver": (2, *C), "data": (3, B), "id": (4, S),
        "status": (5, E, ".fedn.ModelStatus"),
    },
    "ModelResponse": {"data": (1, B), "id": (2, S), "status": (3, E, ".fedn.ModelStatus"), "message": (4, S)},
    "Heartbeat": {"sender": (1, *C), "memory_utilisation": (2, FL), "cpu_utilisation": (3, FL)},
    "ClientAvailableMessage": {"sender": (1, *C), "data": (2, S), "timestamp": (3, S)},
}  # fmt: skip


def _describe(field: descriptor_pb2.FieldDescriptorProto) -> tuple:
    shape: tuple = (field.number, field.type)
    if field.type_name:
        shape += (field.type_name,)
    if field.label == F.LABEL_REPEATED:
        shape += ("repeated",)
    return shape


@pytest.mark.parametrize("message_name", sorted(MESSAGES))
def test_message_fields_match_the_facts_table(message_name):
    proto = {m.name: m for m in _file_proto(pb).message_type}[message_name]
    assert {f.name: _describe(f) for f in proto.field} == MESSAGES[message_name]


SERVICES = {
    "Combiner": {
        "TaskStream": ("ClientAvailableMessage", "TaskRequest", False, True),
        "SendModelUpdate": ("ModelUpdate", "Response", False, False),
        "SendModelValidation": ("ModelValidation", "Response", False, False),
        "SendModelPrediction": ("ModelPrediction", "Response", False, False),
        "SendBackwardCompletion": ("BackwardCompletion", "Response", False, False),
        "SendModelMetric": ("ModelMetric", "Response", False, False),
        "SendAttributeMessage": ("AttributeMessage", "Response", False, False),
        "SendTelemetryMessage": ("TelemetryMessage", "Response", False, False),
    },
    "Connector": {
        "SendHeartbeat": ("Heartbeat", "Response", False, False),
        "SendStatus": ("Status", "Response", False, False),
    },
    "ModelService": {
        "Download": ("ModelRequest", "ModelResponse", False, True),
        "Upload": ("ModelRequest", "ModelResponse", True, False),
    },
}


def test_services_methods_and_streaming_kinds():
    found = {
        service.name: {
            m.name: (
                m.input_type.removeprefix(".fedn."),
                m.output_type.removeprefix(".fedn."),
                m.client_streaming,
                m.server_streaming,
            )
            for m in service.method
        }
        for service in _file_proto(pb).service
    }
    assert found == SERVICES


def test_stub_method_paths():
    """The paths gRPC puts on the wire: /fedn.<Service>/<Rpc>."""
    services = (GENERATED / "fedn_pb2_grpc.py").read_text()
    for service, methods in SERVICES.items():
        for method in methods:
            assert f"'/fedn.{service}/{method}'" in services
