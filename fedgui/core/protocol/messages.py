"""Build every message the client sends, and read the tasks it receives.

Field choices follow FEDn 0.33's client (docs: fedn-client-protocol.md §3-4) because the
combiner and its database depend on them: e.g. ``ModelUpdate.timestamp`` is a *string* while
``ModelValidation.timestamp`` is a Timestamp, ``ModelUpdate.meta`` must carry
``training_metadata.num_examples``, and a repeated list must never be empty (the combiner then
fails with a KeyError). Only proto fields are used: the server's stores reject unknown keys.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from google.protobuf import json_format
from google.protobuf.message import Message

from fedgui.core.protocol.errors import InvalidTaskOutput
from fedgui.core.protocol.generated import fedn_pb2 as pb

TASK_KINDS = {
    pb.MODEL_UPDATE: "train",
    pb.MODEL_VALIDATION: "validate",
    pb.MODEL_PREDICTION: "predict",
}


@dataclass(frozen=True)
class ClientIdentity:
    """Who we are on the network. ``client_id`` is what the combiner keys everything on."""

    client_id: str
    name: str

    def sender(self, with_id: bool = True) -> pb.Client:
        """``Client{role CLIENT, name, client_id}``; FEDn's client leaves the id out of Status
        and ModelPrediction senders, and we copy that (``with_id=False``)."""
        client = pb.Client(role=pb.CLIENT, name=self.name)
        if with_id:
            client.client_id = self.client_id
        return client


@dataclass(frozen=True)
class TaskSender:
    name: str
    role: int
    client_id: str = ""

    def as_client(self) -> pb.Client:
        return pb.Client(name=self.name, role=cast(pb.Role, self.role), client_id=self.client_id)


@dataclass(frozen=True)
class Task:
    """A TaskRequest in plain Python. ``kind`` is "train", "validate", "predict" or "other".

    ``config`` is ``data`` parsed as JSON ({} when empty or not an object). Its values are
    strings as the combiner sent them ("round_id": "3", "validate": "True"). ``data`` keeps the
    raw text: ModelUpdate.meta must echo it unchanged. It may contain the source code of server
    functions, so do not log it whole.
    """

    kind: str
    type: int
    model_id: str
    session_id: str
    correlation_id: str
    round_id: str | None
    data: str
    config: dict[str, Any]
    client_settings: dict[str, Any]
    sender: TaskSender
    timestamp: str = ""
    meta: str = ""

    @property
    def type_name(self) -> str:
        return pb.StatusType.Name(self.type) if self.type in pb.StatusType.values() else str(self.type)


def parse_task(request: pb.TaskRequest) -> Task:
    """Read a TaskRequest. Deliberately no filter on ``sender.role``: its numbering changed in
    FEDn 0.20, and the stock client's filter silently drops every task on a mismatch."""
    config = _json_object(request.data)
    settings = config.get("client_settings", {})
    if isinstance(settings, str):  # tolerate a JSON object nested as text
        settings = _json_object(settings)
    round_id = config.get("round_id")
    return Task(
        kind=TASK_KINDS.get(request.type, "other"),
        type=int(request.type),
        model_id=request.model_id,
        session_id=request.session_id,
        correlation_id=request.correlation_id,
        round_id=None if round_id is None else str(round_id),
        data=request.data,
        config=config,
        client_settings=settings if isinstance(settings, dict) else {},
        sender=TaskSender(request.sender.name, int(request.sender.role), request.sender.client_id),
        timestamp=request.timestamp,
        meta=request.meta,
    )


def _json_object(text: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# ---- keeping the connection alive ----


def client_available(identity: ClientIdentity) -> pb.ClientAvailableMessage:
    """Opens TaskStream; the combiner subscribes ``sender.client_id`` to its task queue."""
    return pb.ClientAvailableMessage(sender=identity.sender())


def heartbeat(
    identity: ClientIdentity, memory_percent: float | None = None, cpu_percent: float | None = None
) -> pb.Heartbeat:
    """FEDn's client leaves the utilisation fields unset; fill them only when given."""
    message = pb.Heartbeat(sender=identity.sender())
    if memory_percent is not None:
        message.memory_utilisation = memory_percent
    if cpu_percent is not None:
        message.cpu_utilisation = cpu_percent
    return message


def telemetry(identity: ClientIdentity, values: Mapping[str, float]) -> pb.TelemetryMessage | None:
    """None when there is nothing numeric to send (an empty list crashes the combiner's handler)."""
    elems = [pb.TelemetryElem(key=k, value=v) for k, v in _numeric_items(values)]
    if not elems:
        return None
    message = pb.TelemetryMessage(sender=identity.sender(), telemetries=elems)
    message.timestamp.GetCurrentTime()
    return message


def machine_telemetry(identity: ClientIdentity) -> pb.TelemetryMessage:
    """The two values FEDn's client reports every 5 s: system memory and CPU use in percent."""
    import psutil  # here, so importing this module stays cheap

    message = telemetry(
        identity, {"memory_usage": psutil.virtual_memory().percent, "cpu_usage": psutil.cpu_percent()}
    )
    assert message is not None  # both values are always numbers
    return message


# ---- task results ----


def model_update(
    identity: ClientIdentity,
    task: Task,
    model_update_id: str,
    training_metadata: Mapping[str, Any],
    *,
    exec_training: float,
    processing_time: float,
    upload_model: float,
    fetch_model: float,
) -> pb.ModelUpdate:
    """SendModelUpdate after the upload of ``model_update_id`` finished.

    The combiner drops updates whose ``meta.training_metadata.num_examples`` is missing, and
    weights fedavg by it, so a missing or non-numeric value is an error here, not there.
    """
    num_examples = training_metadata.get("num_examples")
    if not _is_number(num_examples):
        raise InvalidTaskOutput(
            "The training code did not report how many examples it used "
            "(num_examples in the metadata file), so the network cannot use this update."
        )
    meta = {
        "training_metadata": dict(training_metadata),
        "exec_training": exec_training,
        "processing_time": processing_time,
        "upload_model": upload_model,
        "fetch_model": fetch_model,
        "config": task.data,  # the raw text, nested as a string: the combiner json.loads it
    }
    return pb.ModelUpdate(
        sender=identity.sender(),
        receiver=pb.Client(name=task.sender.name, role=cast(pb.Role, task.sender.role)),
        model_id=task.model_id,
        model_update_id=model_update_id,
        timestamp=str(datetime.now(timezone.utc)),
        meta=json.dumps(meta),
    )


def model_validation(identity: ClientIdentity, task: Task, metrics: Mapping[str, Any]) -> pb.ModelValidation:
    message = pb.ModelValidation(
        sender=identity.sender(),
        receiver=pb.Client(name=task.sender.name, role=cast(pb.Role, task.sender.role)),
        model_id=task.model_id,
        data=json.dumps(dict(metrics)),
        correlation_id=task.correlation_id,
        session_id=task.session_id,
    )
    message.timestamp.GetCurrentTime()
    return message


def model_prediction(identity: ClientIdentity, task: Task, result: Any) -> pb.ModelPrediction:
    """``prediction_id`` is the TaskRequest's session_id: the combiner carries the prediction
    id there. ``result`` None (a failed predict) is sent as "null", like FEDn's client."""
    message = pb.ModelPrediction(
        sender=identity.sender(with_id=False),
        receiver=pb.Client(name=task.sender.name, role=cast(pb.Role, task.sender.role)),
        model_id=task.model_id,
        data=json.dumps(result),
        correlation_id=task.correlation_id,
        prediction_id=task.session_id,
    )
    message.timestamp.GetCurrentTime()
    return message


def model_metric(
    identity: ClientIdentity,
    values: Mapping[str, Any],
    *,
    step: int | None = None,
    model_id: str = "",
    round_id: str = "",
    session_id: str = "",
) -> pb.ModelMetric | None:
    """Live metrics for the current task; None when no value is a number (then send nothing)."""
    elems = [pb.MetricElem(key=k, value=v) for k, v in _numeric_items(values)]
    if not elems:
        return None
    message = pb.ModelMetric(
        sender=identity.sender(),
        metrics=elems,
        model_id=model_id,
        round_id=round_id,
        session_id=session_id,
    )
    if step is not None:
        message.step.value = step
    message.timestamp.GetCurrentTime()
    return message


def attributes(identity: ClientIdentity, values: Mapping[str, Any]) -> pb.AttributeMessage | None:
    elems = [pb.AttributeElem(key=str(k), value=str(v)) for k, v in values.items()]
    if not elems:
        return None
    message = pb.AttributeMessage(sender=identity.sender(), attributes=elems)
    message.timestamp.GetCurrentTime()
    return message


def status(
    identity: ClientIdentity,
    text: str,
    log_level: int = pb.INFO,
    *,
    type: int | None = None,
    session_id: str = "",
    about: Message | None = None,
) -> pb.Status:
    """A line for the network's event log (cosmetic; the round logic never reads it).

    As FEDn's client: sender without client_id, ``data`` = camelCase JSON of the message the
    status is ``about``, no correlation_id or extra.
    """
    message = pb.Status(
        sender=identity.sender(with_id=False), status=text, log_level=cast(pb.LogLevel, log_level)
    )
    if type is not None:
        message.type = cast(pb.StatusType, type)
    if session_id:
        message.session_id = session_id
    if about is not None:
        message.data = json_format.MessageToJson(about)
    message.timestamp.GetCurrentTime()
    return message


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _numeric_items(values: Mapping[str, Any]) -> list[tuple[str, float]]:
    """Keys with a finite number (bools excluded); others cannot go into a float field."""
    return [(str(k), float(v)) for k, v in values.items() if _is_number(v)]
