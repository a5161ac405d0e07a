"""Regenerate the example's seed model and sample data, deterministically.

    python resources/example/make_example.py [OUTPUT_FOLDER]

Writes seed.npz (an untrained model: zeros) and data/train.csv, data/test.csv (synthetic
tabular data: four measurements and a 0/1 label). Same seed, same files, byte for byte.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FEATURES = ["age_scaled", "dose_scaled", "marker_a", "marker_b"]
TRUE_WEIGHTS = np.array([1.5, -2.0, 0.8, 0.0])
TRUE_BIAS = 0.3


def write_split(path: Path, rng: np.random.Generator, rows: int) -> None:
    features = rng.normal(size=(rows, len(FEATURES)))
    chance = 1.0 / (1.0 + np.exp(-(features @ TRUE_WEIGHTS + TRUE_BIAS)))
    labels = (rng.uniform(size=rows) < chance).astype(int)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([*FEATURES, "label"])
        for row, label in zip(features, labels, strict=True):
            writer.writerow([f"{value:.4f}" for value in row] + [label])


def write_seed(path: Path) -> None:
    weights = [np.zeros(len(FEATURES)), np.zeros(1)]
    # Through a file handle so numpy keeps the name; fixed zip timestamps are numpy's own.
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **{str(i): w for i, w in enumerate(weights)})


def main(output: Path = HERE) -> None:
    rng = np.random.default_rng(20261128)
    (output / "data").mkdir(parents=True, exist_ok=True)
    write_split(output / "data" / "train.csv", rng, 400)
    write_split(output / "data" / "test.csv", rng, 150)
    write_seed(output / "seed.npz")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
