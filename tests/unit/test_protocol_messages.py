"""Message builders and parse_task, checked field by field against §3-4 of the protocol notes."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from google.protobuf import json_format

from fedgui.core.protocol import messages as msg
from fedgui.core.protocol.errors import InvalidTaskOutput
from fedgui.core.protocol.generated import fedn_pb2 as pb

ME = msg.ClientIdentity(client_id="bbbbbbbb-1111", name="clinic-a")
ROUND_CONFIG = {
    "aggregator": "fedavg", "round_timeout": "60", "rounds": "1", "validate": "True",
    "helper_type": "numpyhelper", "model_id": "m-1", "round_id": "3", "task": "training",
    "session_id": "s-1",
}  # fmt: skip


def task_request(type_=pb.MODEL_UPDATE, data=None, **fields) -> pb.TaskRequest:
    return pb.TaskRequest(
        sender=pb.Client(name="combiner1", role=pb.COMBINER),
        receiver=pb.Client(client_id=ME.client_id, role=pb.CLIENT),
        model_id="m-1",
        data=json.dumps(ROUND_CONFIG) if data is None else data,
        correlation_id="corr-1",
        timestamp="2026-11-28 15:01:13.087429",
        session_id="s-1",
        type=type_,
        **fields,
    )


def roundtrip(message):
    return type(message).FromString(message.SerializeToString())


# ---- parse_task ----


def test_parse_training_task():
    task = msg.parse_task(task_request())
    assert task.kind == "train"
    assert task.type == pb.MODEL_UPDATE and task.type_name == "MODEL_UPDATE"
    assert (task.model_id, task.session_id, task.correlation_id) == ("m-1", "s-1", "corr-1")
    assert task.round_id == "3"  # a string, as the combiner sends it
    assert task.config["validate"] == "True"
    assert task.data == json.dumps(ROUND_CONFIG)
    assert task.client_settings == {}
    assert task.sender == msg.TaskSender("combiner1", pb.COMBINER, "")
    assert task.timestamp == "2026-11-28 15:01:13.087429"


def test_parse_validation_task_with_empty_data():
    task = msg.parse_task(task_request(pb.MODEL_VALIDATION, data=""))
    assert task.kind == "validate"
    assert task.config == {} and task.round_id is None and task.data == ""


def test_parse_prediction_and_other_kinds():
    assert msg.parse_task(task_request(pb.MODEL_PREDICTION, data='{"presigned_url": "x"}')).kind == "predict"
    assert msg.parse_task(task_request(pb.FORWARD)).kind == "other"
    assert msg.parse_task(task_request(pb.BACKWARD)).kind == "other"


def test_client_settings_object_is_read():
    data = json.dumps({**ROUND_CONFIG, "client_settings": {"lr": 0.1}})
    assert msg.parse_task(task_request(data=data)).client_settings == {"lr": 0.1}


@pytest.mark.parametrize("data", ["not json", "[1, 2]", '"text"', "null"])
def test_unusable_data_gives_an_empty_config_but_keeps_the_text(data):
    task = msg.parse_task(task_request(data=data))
    assert task.config == {} and task.data == data


@pytest.mark.parametrize("role", [pb.OTHER, pb.CLIENT, pb.COMBINER, pb.REDUCER, 7])
def test_no_filter_on_sender_role(role):
    """Pre-0.20 combiners number roles differently; a task must never be dropped for it."""
    request = task_request()
    request.sender.role = role
    assert msg.parse_task(request).kind == "train"


# ---- keep-alive messages ----


def test_client_available_and_heartbeat_carry_the_client_id():
    available = roundtrip(msg.client_available(ME))
    assert available.sender == pb.Client(role=pb.CLIENT, name="clinic-a", client_id="bbbbbbbb-1111")
    beat = roundtrip(msg.heartbeat(ME))
    assert beat.sender.client_id == ME.client_id and beat.sender.role == 1
    assert beat.memory_utilisation == 0 and beat.cpu_utilisation == 0  # unset, like the stock client
    filled = msg.heartbeat(ME, memory_percent=42.5, cpu_percent=7.0)
    assert (filled.memory_utilisation, filled.cpu_utilisation) == (42.5, 7.0)


def test_machine_telemetry_has_memory_and_cpu():
    telemetry = roundtrip(msg.machine_telemetry(ME))
    assert [e.key for e in telemetry.telemetries] == ["memory_usage", "cpu_usage"]
    assert telemetry.sender.client_id == ME.client_id
    assert telemetry.timestamp.seconds > 0


def test_empty_lists_are_never_built():
    assert msg.telemetry(ME, {}) is None
    assert msg.model_metric(ME, {}) is None
    assert msg.model_metric(ME, {"note": "text", "flag": True}) is None
    assert msg.attributes(ME, {}) is None


# ---- task results ----


def test_model_update_fields_and_meta():
    task = msg.parse_task(task_request())
    update = roundtrip(
        msg.model_update(
            ME, task, "upd-1", {"num_examples": 120, "epochs": 1},
            exec_training=1.5, processing_time=1.6, upload_model=0.2, fetch_model=0.1,
        )
    )  # fmt: skip
    assert update.sender == pb.Client(role=pb.CLIENT, name="clinic-a", client_id=ME.client_id)
    assert update.receiver == pb.Client(name="combiner1", role=pb.COMBINER)
    assert (update.model_id, update.model_update_id) == ("m-1", "upd-1")
    assert update.correlation_id == "" and update.config == ""
    parsed = datetime.fromisoformat(update.timestamp)  # str(datetime.now(timezone.utc))
    assert parsed.utcoffset().total_seconds() == 0
    meta = json.loads(update.meta)
    assert set(meta) == {"training_metadata", "exec_training", "processing_time", "upload_model",
                         "fetch_model", "config"}  # fmt: skip
    assert meta["training_metadata"] == {"num_examples": 120, "epochs": 1}
    assert isinstance(meta["config"], str) and meta["config"] == task.data  # raw text, nested
    assert json.loads(meta["config"])["round_id"] == "3"
    assert meta["exec_training"] == 1.5 and meta["fetch_model"] == 0.1


@pytest.mark.parametrize(
    "metadata", [{}, {"num_examples": "12"}, {"num_examples": None}, {"num_examples": True}]
)
def test_model_update_needs_a_numeric_num_examples(metadata):
    task = msg.parse_task(task_request())
    with pytest.raises(InvalidTaskOutput) as err:
        msg.model_update(
            ME, task, "u", metadata, exec_training=0, processing_time=0, upload_model=0, fetch_model=0
        )
    assert "num_examples" in str(err.value)


def test_model_validation_echoes_ids():
    task = msg.parse_task(task_request(pb.MODEL_VALIDATION, data=""))
    validation = roundtrip(msg.model_validation(ME, task, {"test_accuracy": 0.5}))
    assert validation.sender.client_id == ME.client_id
    assert validation.receiver == pb.Client(name="combiner1", role=pb.COMBINER)
    assert validation.correlation_id == "corr-1" and validation.session_id == "s-1"
    assert validation.model_id == "m-1"
    assert json.loads(validation.data) == {"test_accuracy": 0.5}
    assert validation.timestamp.seconds > 0 and validation.meta == ""


def test_model_prediction_uses_session_id_as_prediction_id():
    task = msg.parse_task(task_request(pb.MODEL_PREDICTION, data="{}"))
    prediction = roundtrip(msg.model_prediction(ME, task, {"y": [1, 2]}))
    assert prediction.prediction_id == "s-1"
    assert prediction.correlation_id == "corr-1"
    assert prediction.sender == pb.Client(role=pb.CLIENT, name="clinic-a")  # no id, like the stock client
    assert json.loads(prediction.data) == {"y": [1, 2]}
    assert msg.model_prediction(ME, task, None).data == "null"


def test_model_metric_fields():
    metric = roundtrip(
        msg.model_metric(
            ME, {"loss": 0.25, "acc": 1, "name": "x"}, step=7, model_id="m", round_id="3", session_id="s"
        )
    )
    assert [(e.key, e.value) for e in metric.metrics] == [("loss", 0.25), ("acc", 1.0)]
    assert metric.HasField("step") and metric.step.value == 7
    assert (metric.model_id, metric.round_id, metric.session_id) == ("m", "3", "s")
    assert not msg.model_metric(ME, {"loss": 1.0}).HasField("step")
    assert msg.model_metric(ME, {"loss": 1.0}, step=0).HasField("step")  # step 0 is still sent


def test_status_like_the_stock_client():
    task = msg.parse_task(task_request())
    update = msg.model_update(ME, task, "u", {"num_examples": 1}, exec_training=0, processing_time=0,
                              upload_model=0, fetch_model=0)  # fmt: skip
    status = roundtrip(
        msg.status(
            ME, "Model update completed.", pb.AUDIT, type=pb.MODEL_UPDATE, session_id="s-1", about=update
        )
    )
    assert status.sender == pb.Client(role=pb.CLIENT, name="clinic-a")
    assert status.log_level == 5 and status.type == 2 and status.session_id == "s-1"
    assert json.loads(status.data)["modelUpdateId"] == "u"  # camelCase JSON, like MessageToJson
    assert status.correlation_id == "" and status.extra == ""
    assert status.timestamp.seconds > 0
    plain = msg.status(ME, "hello")
    assert plain.type == pb.LOG and plain.log_level == pb.INFO and plain.data == ""


def test_messages_use_only_proto_fields_in_dict_form():
    """The combiner stores messages via MessageToDict with preserved names; check the keys."""
    task = msg.parse_task(task_request(pb.MODEL_VALIDATION, data=""))
    as_dict = json_format.MessageToDict(
        msg.model_validation(ME, task, {"a": 1}), preserving_proto_field_name=True
    )
    assert set(as_dict) <= {"sender", "receiver", "model_id", "data", "correlation_id", "timestamp", "meta",
                            "session_id"}  # fmt: skip
