import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import wrappers_pb2 as _wrappers_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StatusType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOG: _ClassVar[StatusType]
    MODEL_UPDATE_REQUEST: _ClassVar[StatusType]
    MODEL_UPDATE: _ClassVar[StatusType]
    MODEL_VALIDATION_REQUEST: _ClassVar[StatusType]
    MODEL_VALIDATION: _ClassVar[StatusType]
    MODEL_PREDICTION: _ClassVar[StatusType]
    NETWORK: _ClassVar[StatusType]
    FORWARD_REQUEST: _ClassVar[StatusType]
    FORWARD: _ClassVar[StatusType]
    BACKWARD_REQUEST: _ClassVar[StatusType]
    BACKWARD: _ClassVar[StatusType]

class LogLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NONE: _ClassVar[LogLevel]
    INFO: _ClassVar[LogLevel]
    DEBUG: _ClassVar[LogLevel]
    WARNING: _ClassVar[LogLevel]
    ERROR: _ClassVar[LogLevel]
    AUDIT: _ClassVar[LogLevel]

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OTHER: _ClassVar[Role]
    CLIENT: _ClassVar[Role]
    COMBINER: _ClassVar[Role]
    REDUCER: _ClassVar[Role]

class ModelStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OK: _ClassVar[ModelStatus]
    IN_PROGRESS: _ClassVar[ModelStatus]
    IN_PROGRESS_OK: _ClassVar[ModelStatus]
    FAILED: _ClassVar[ModelStatus]
    UNKNOWN: _ClassVar[ModelStatus]
LOG: StatusType
MODEL_UPDATE_REQUEST: StatusType
MODEL_UPDATE: StatusType
MODEL_VALIDATION_REQUEST: StatusType
MODEL_VALIDATION: StatusType
MODEL_PREDICTION: StatusType
NETWORK: StatusType
FORWARD_REQUEST: StatusType
FORWARD: StatusType
BACKWARD_REQUEST: StatusType
BACKWARD: StatusType
NONE: LogLevel
INFO: LogLevel
DEBUG: LogLevel
WARNING: LogLevel
ERROR: LogLevel
AUDIT: LogLevel
OTHER: Role
CLIENT: Role
COMBINER: Role
REDUCER: Role
OK: ModelStatus
IN_PROGRESS: ModelStatus
IN_PROGRESS_OK: ModelStatus
FAILED: ModelStatus
UNKNOWN: ModelStatus

class Client(_message.Message):
    __slots__ = ("role", "name", "client_id")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    role: Role
    name: str
    client_id: str
    def __init__(self, role: _Optional[_Union[Role, str]] = ..., name: _Optional[str] = ..., client_id: _Optional[str] = ...) -> None: ...

class Response(_message.Message):
    __slots__ = ("sender", "response")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    sender: Client
    response: str
    def __init__(self, sender: _Optional[_Union[Client, _Mapping]] = ..., response: _Optional[str] = ...) -> None: ...

class ClientAvailableMessage(_message.Message):
    __slots__ = ("sender", "data", "timestamp")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    sender: Client
    data: str
    timestamp: str
    def __init__(self, sender: _Optional[_Union[Client, _Mapping]] = ..., data: _Optional[str] = ..., timestamp: _Optional[str] = ...) -> None: ...

class TaskRequest(_message.Message):
    __slots__ = ("sender", "receiver", "model_id", "data", "correlation_id", "timestamp", "meta", "session_id", "type")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    META_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    sender: Client
    receiver: Client
    model_id: str
    data: str
    correlation_id: str
    timestamp: str
    meta: str
    session_id: str
    type: StatusType
    def __init__(self, sender: _Optional[_Union[Client, _Mapping]] = ..., receiver: _Optional[_Union[Client, _Mapping]] = ..., model_id: _Optional[str] = ..., data: _Optional[str] = ..., correlation_id: _Optional[str] = ..., timestamp: _Optional[str] = ..., meta: _Optional[str] = ..., session_id: _Optional[str] = ..., type: _Optional[_Union[StatusType, str]] = ...) -> None: ...

class ModelUpdate(_message.Message):
    __slots__ = ("sender", "receiver", "model_id", "model_update_id", "correlation_id", "timestamp", "meta", "config")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_UPDATE_ID_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    META_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    sender: Client
    receiver: Client
    model_id: str
    model_update_id: str
    correlation_id: str
    timestamp: str
    meta: str
    config: str
    def __init__(self, sender: _Optional[_Union[Client, _Mapping]] = ..., receiver: _Optional[_Union[Client, _Mapping]] = ..., model_id: _Optional[str] = ..., model_update_id: _Optional[str] = ..., correlation_id: _Optional[str] = ..., timestamp: _Optional[str] = ..., meta: _Optional[str] = ..., config: _Optional[str] = ...) -> None: ...

class ModelValidation(_message.Message):
    __slots__ = ("sender", "receiver", "model_id", "data", "correlation_id", "timestamp", "meta", "session_id")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    META_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    sender: Client
    receiver: Client
    model_id: str
    data: str
    correlation_id: str
    timestamp: _timestamp_pb2.Timestamp
    meta: str
    session_id: str
    def __init__(self, sender: _Optional[_Union[Client, _Mapping]] = ..., receiver: _Optional[_Union[Client, _Mapping]] = ..., model_id: _Optional[str] = ..., data: _Optional[str] = ..., correlation_id: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., meta: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

class ModelPrediction(_message.Message):
    __slots__ = ("sender", "receiver", "model_id", "data", "correlation_id", "timestamp", "meta", "prediction_id")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    META_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_ID_FIELD_NUMBER: _ClassVar[int]
    sender: Client
    receiver: Client
    model_id: str
    data: str
    correlation_id: str
    timestamp: _timestamp_pb2.Timestamp
    meta: str
    prediction_id: str
    def __init__(self, sender: _Optional[_Union[Client, _Mapping]] = ..., receiver: _Optional[_Union[Client, _Mapping]] = ..., model_id: _Optional[str] = ..., data: _Optional[str] = ..., correlation_id: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., meta: _Optional[str] = ..., prediction_id: _Optional[str] = ...) -> None: ...

class BackwardCompletion(_message.Message):
    __slots__ = ("sender", "receiver", "gradient_id", "correlation_id", "session_id", "timestamp", "meta")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_FIELD_NUMBER: _ClassVar[int]
    GRADIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    META_FIELD_NUMBER: _ClassVar[int]
    sender: Client
    receiver: Client
    gradient_id: str
    correlation_id: str
    session_id: str
    timestamp: _timestamp_pb2.Timestamp
    meta: str
    def __init__(self, sender: _Optional[_Union[Client, _Mapping]] = ..., receiver: _Optional[_Union[Client, _Mapping]] = ..., gradient_id: _Optional[str] = ..., correlation_id: _Optional[str] = ..., session_id: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., meta: _Optional[str] = ...) -> None: ...

class Status(_message.Message):
    __slots__ = ("sender", "status", "log_level", "data", "correlation_id", "timestamp", "type", "extra", "session_id")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LOG_LEVEL_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    sender: Client
    status: str
    log_level: LogLevel
    data: str
    correlation_id: str
    timestamp: _timestamp_pb2.Timestamp
    type: StatusType
    extra: str
    session_id: str
    def __init__(self, sender: _Optional[_Union[Client, _Mapping]] = ..., status: _Optional[str] = ..., log_level: _Optional[_Union[LogLevel, str]] = ..., data: _Optional[str] = ..., correlation_id: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., type: _Optional[_Union[StatusType, str]] = ..., extra: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

class MetricElem(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: float
    def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...

class ModelMetric(_message.Message):
    __slots__ = ("sender", "metrics", "timestamp", "step", "model_id", "round_id", "session_id")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    ROUND_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    sender: Client
    metrics: _containers.RepeatedCompositeFieldContainer[MetricElem]
    timestamp: _timestamp_pb2.Timestamp
    step: _wrappers_pb2.UInt32Value
    model_id: str
    round_id: str
    session_id: str
    def __init__(self, sender: _Optional[_Union[Client, _Mapping]] = ..., metrics: _Optional[_Iterable[_Union[MetricElem, _Mapping]]] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., step: _Optional[_Union[_wrappers_pb2.UInt32Value, _Mapping]] = ..., model_id: _Optional[str] = ..., round_id: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

class AttributeElem(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class AttributeMessage(_message.Message):
    __slots__ = ("sender", "attributes", "timestamp")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    sender: Client
    attributes: _containers.RepeatedCompositeFieldContainer[AttributeElem]
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, sender: _Optional[_Union[Client, _Mapping]] = ..., attributes: _Optional[_Iterable[_Union[AttributeElem, _Mapping]]] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TelemetryElem(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: float
    def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...

class TelemetryMessage(_message.Message):
    __slots__ = ("sender", "telemetries", "timestamp")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    TELEMETRIES_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    sender: Client
    telemetries: _containers.RepeatedCompositeFieldContainer[TelemetryElem]
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, sender: _Optional[_Union[Client, _Mapping]] = ..., telemetries: _Optional[_Iterable[_Union[TelemetryElem, _Mapping]]] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("sender", "memory_utilisation", "cpu_utilisation")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    MEMORY_UTILISATION_FIELD_NUMBER: _ClassVar[int]
    CPU_UTILISATION_FIELD_NUMBER: _ClassVar[int]
    sender: Client
    memory_utilisation: float
    cpu_utilisation: float
    def __init__(self, sender: _Optional[_Union[Client, _Mapping]] = ..., memory_utilisation: _Optional[float] = ..., cpu_utilisation: _Optional[float] = ...) -> None: ...

class ModelRequest(_message.Message):
    __slots__ = ("sender", "receiver", "data", "id", "status")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    sender: Client
    receiver: Client
    data: bytes
    id: str
    status: ModelStatus
    def __init__(self, sender: _Optional[_Union[Client, _Mapping]] = ..., receiver: _Optional[_Union[Client, _Mapping]] = ..., data: _Optional[bytes] = ..., id: _Optional[str] = ..., status: _Optional[_Union[ModelStatus, str]] = ...) -> None: ...

class ModelResponse(_message.Message):
    __slots__ = ("data", "id", "status", "message")
    DATA_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    id: str
    status: ModelStatus
    message: str
    def __init__(self, data: _Optional[bytes] = ..., id: _Optional[str] = ..., status: _Optional[_Union[ModelStatus, str]] = ..., message: _Optional[str] = ...) -> None: ...
