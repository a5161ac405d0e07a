"""Checks of what a finished entry point left behind (FEDn protocol §5.4 and §4.2–4.4).

FEDn reads these files without checking them, so a broken package shows up as an opaque
failure on the server; we say precisely what is wrong before anything leaves the machine.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from fedgui.core.execution.errors import (
    MetricsOutputInvalid,
    MetricsOutputMissing,
    ModelOutputInvalid,
    ModelOutputMissing,
    TrainMetadataInvalid,
    TrainMetadataMissing,
)
from fedgui.core.execution.numpy_model import NUMPY_HELPERS, NotANumpyModel, check_numpy_model


def metadata_path(model_path: Path) -> Path:
    """FEDn's convention: ``<model path>-metadata`` next to the model (helpers.save_metadata)."""
    return model_path.with_name(model_path.name + "-metadata")


def check_model_output(entry_point: str, model_path: Path, helper_type: str | None = None) -> None:
    """The model exists and is not empty; with FEDn's numpy helper, it also loads as an ``.npz``
    of finite numeric arrays (other helpers' formats are not known here)."""
    if not model_path.is_file() or model_path.stat().st_size == 0:
        raise ModelOutputMissing(entry_point, str(model_path))
    if (helper_type or "").lower() in NUMPY_HELPERS:
        try:
            check_numpy_model(model_path)
        except NotANumpyModel as problem:
            raise ModelOutputInvalid(entry_point, str(problem)) from None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_train_metadata(entry_point: str, model_path: Path) -> dict[str, Any]:
    path = metadata_path(model_path)
    if not path.is_file():
        raise TrainMetadataMissing(entry_point, str(path))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TrainMetadataInvalid(entry_point, str(path), f"it is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise TrainMetadataInvalid(
            entry_point, str(path), f"it is a JSON {type(data).__name__}, not an object"
        )
    if "num_examples" not in data:
        raise TrainMetadataInvalid(entry_point, str(path), '"num_examples" is missing')
    count = data["num_examples"]
    if not _is_number(count) or not math.isfinite(count) or count < 0:
        raise TrainMetadataInvalid(
            entry_point, str(path), f'"num_examples" must be a number of zero or more, got {count!r}'
        )
    return data


def _read_json_output(entry_point: str, path: Path) -> Any:
    if not path.is_file() or path.stat().st_size == 0:
        raise MetricsOutputMissing(entry_point, str(path))
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise MetricsOutputInvalid(entry_point, str(path), f"it is not valid JSON ({exc})") from None


def read_validation_metrics(entry_point: str, path: Path) -> dict[str, Any]:
    """A JSON object of metrics; non-numeric values are allowed (the server stores it as text)."""
    data = _read_json_output(entry_point, path)
    if not isinstance(data, dict):
        raise MetricsOutputInvalid(
            entry_point, str(path), f"it is a JSON {type(data).__name__}, not an object"
        )
    return data


def read_prediction(entry_point: str, path: Path) -> Any:
    """Any JSON value (FEDn sends it on as text)."""
    return _read_json_output(entry_point, path)
