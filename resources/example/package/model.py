"""Logistic regression in plain numpy, shared by the entry point scripts.

The model is two arrays saved as FEDn's numpyhelper expects: an .npz with keys "0" (weights,
one per feature column) and "1" (bias), float64, in that order.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import numpy as np


def data_folder() -> Path:
    """The data provider's folder, given by the client as FEDN_DATA_PATH."""
    folder = os.environ.get("FEDN_DATA_PATH")
    if not folder:
        sys.exit("FEDN_DATA_PATH is not set: the client should point it at the data folder.")
    return Path(folder)


def load_csv(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Features and 0/1 labels from <data folder>/<name>; the last column is the label."""
    path = data_folder() / name
    if not path.is_file():
        sys.exit(f"Missing data file {path}. Put {name} (feature columns, then a 'label' column) there.")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    table = np.array(rows[1:], dtype=np.float64)
    return table[:, :-1], table[:, -1]


def load_model(path: str) -> list[np.ndarray]:
    with np.load(path) as archive:
        return [archive[str(i)] for i in range(len(archive.files))]


def save_model(weights: list[np.ndarray], path: str) -> None:
    # An open file handle, not a path: np.savez_compressed would append ".npz" to a bare path.
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **{str(i): w for i, w in enumerate(weights)})


def probabilities(weights: list[np.ndarray], features: np.ndarray) -> np.ndarray:
    w, b = weights
    return 1.0 / (1.0 + np.exp(-(features @ w + b[0])))


def loss_and_accuracy(
    weights: list[np.ndarray], features: np.ndarray, labels: np.ndarray
) -> tuple[float, float]:
    p = np.clip(probabilities(weights, features), 1e-12, 1 - 1e-12)
    loss = -np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p))
    accuracy = np.mean((p >= 0.5) == (labels == 1))
    return float(loss), float(accuracy)


def report_metrics(step: int, **values: float) -> None:
    """A live metric line for fedgui's plots; other clients just print it."""
    print("FEDGUI_METRIC " + json.dumps({**values, "step": step}), flush=True)
