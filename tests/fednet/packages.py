"""A tiny numpy-only FEDn compute package and seed model, for interop tests and benchmarks.

The package follows FEDn's contract (``fedn.yaml`` entry points, ``train <in> <out>`` writing the
model plus ``<out>-metadata``, ``validate <in> <out.json>``) and imports nothing but numpy, so it
runs under the stock ``fedn client start`` (with ``--local-package`` or downloaded) and under
fedgui's runner alike, without building a python_env.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np

FEDN_YAML = """\
entry_points:
  train:
    command: python train.py
  validate:
    command: python validate.py
"""

# Train: add a small step to every array so aggregation visibly moves the model. The model is
# written through an open file handle because np.savez_compressed appends ".npz" to a bare path
# that lacks it, and FEDn's temp paths may have no suffix.
TRAIN_PY = """\
import json
import os
import sys

import numpy as np

STEP = float(os.environ.get("FEDNET_TRAIN_STEP", "0.1"))


def main(in_path, out_path):
    with np.load(in_path) as data:
        arrays = [data[str(i)] for i in range(len(data.files))]
    updated = {str(i): a + STEP for i, a in enumerate(arrays)}
    with open(out_path, "wb") as handle:
        np.savez_compressed(handle, **updated)
    with open(out_path + "-metadata", "w") as handle:
        json.dump({"num_examples": 10, "batch_size": 1, "epochs": 1, "lr": STEP}, handle)
    print(f"trained on {len(arrays)} arrays", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
"""

VALIDATE_PY = """\
import json
import sys

import numpy as np


def main(in_path, out_path):
    with np.load(in_path) as data:
        arrays = [data[str(i)] for i in range(len(data.files))]
    mean = float(np.mean([float(np.mean(a)) for a in arrays]))
    metrics = {"training_loss": abs(mean), "training_accuracy": 0.5, "test_loss": abs(mean) + 0.1,
               "test_accuracy": 0.4}
    with open(out_path, "w") as handle:
        json.dump(metrics, handle)
    print(f"validated: mean={mean}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
"""

PACKAGE_FILES = {"fedn.yaml": FEDN_YAML, "train.py": TRAIN_PY, "validate.py": VALIDATE_PY}


def write_numpy_package_folder(folder: Path) -> Path:
    """Write the package's files into ``folder`` (for ``--local-package`` or a folder package)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in PACKAGE_FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def write_package_archive(dest: Path, files: dict[str, str]) -> Path:
    """A compute package as ``fedn package create`` makes it: a gzip tar with the files at the
    root. Members get a fixed mtime, so the same files always give the same bytes and checksum."""
    with tarfile.open(dest, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
            archive.addfile(info, io.BytesIO(data))
    return dest


def build_numpy_package(dest: Path) -> Path:
    """Write the package as a gzip tar with the files at the root, like ``fedn package create``.

    ``dest`` may be a folder (then ``package.tgz`` is made in it) or a file path. Members get a
    fixed mtime so the archive, and so its checksum, is the same for the same content.
    """
    dest = Path(dest)
    if dest.is_dir() or not dest.suffix:
        dest.mkdir(parents=True, exist_ok=True)
        dest = dest / "package.tgz"
    return write_package_archive(dest, PACKAGE_FILES)


def build_seed_model(dest: Path, shapes: tuple[tuple[int, ...], ...] = ((4, 3), (3,)), seed: int = 0) -> Path:
    """Write a numpyhelper model: an ``.npz`` with keys "0".."n-1" (FEDn's numpy convention)."""
    dest = Path(dest)
    if dest.is_dir():
        dest = dest / "seed.npz"
    dest.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {str(i): rng.standard_normal(shape) for i, shape in enumerate(shapes)}
    with open(dest, "wb") as handle:
        np.savez_compressed(handle, **arrays)
    return dest
