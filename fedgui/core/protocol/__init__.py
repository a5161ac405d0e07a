"""The gRPC side of FEDn: our own wire-compatible .proto, the channel, messages, model transfer.

Use the names below; the generated stubs (``generated.fedn_pb2``) are for building messages
and reading fields. See docs/core-contracts.md, section "protocol".
"""

from fedgui.core.protocol.channel import CombinerConnection, CombinerEndpoint
from fedgui.core.protocol.errors import (
    BadAssignment,
    CallCancelled,
    CombinerFailed,
    CombinerTimeout,
    CombinerTooOld,
    CombinerUnreachable,
    InvalidTaskOutput,
    ModelNotFound,
    ProtocolError,
    TlsFailed,
    TokenLacksClientRole,
    TokenRejected,
    TransferFailed,
    error_from_rpc,
)
from fedgui.core.protocol.messages import ClientIdentity, Task, TaskSender, parse_task
from fedgui.core.protocol.transfer import CHUNK_SIZE, download_model, upload_model

__all__ = [
    "CHUNK_SIZE",
    "BadAssignment",
    "CallCancelled",
    "ClientIdentity",
    "CombinerConnection",
    "CombinerEndpoint",
    "CombinerFailed",
    "CombinerTimeout",
    "CombinerTooOld",
    "CombinerUnreachable",
    "InvalidTaskOutput",
    "ModelNotFound",
    "ProtocolError",
    "Task",
    "TaskSender",
    "TlsFailed",
    "TokenLacksClientRole",
    "TokenRejected",
    "TransferFailed",
    "download_model",
    "error_from_rpc",
    "parse_task",
    "upload_model",
]
