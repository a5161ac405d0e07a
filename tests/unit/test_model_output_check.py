"""A trained model in the network's numpy format must load and be finite (issue 11 §6)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from fedgui.core.execution.environment import PythonEnvironment
from fedgui.core.execution.errors import ModelOutputInvalid
from fedgui.core.execution.numpy_model import NotANumpyModel, check_numpy_model
from fedgui.core.execution.runner import EntryPointRunner

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="entry points run through bash here")

PYTHON = Path(sys.executable)

TRAIN = """
import json, sys
import numpy as np
out = sys.argv[2]
{write}
json.dump({{"num_examples": 5}}, open(out + "-metadata", "w"))
"""

WRITES = {
    "not a model": 'open(out, "w").write("not a model")',
    "NaN": 'w = np.ones((4, 3)); w[2, 1] = np.nan\nnp.savez(open(out, "wb"), **{"0": np.ones(3), "1": w})',
    "infinity": 'np.savez_compressed(open(out, "wb"), **{"0": np.array([1.0, np.inf])})',
    "objects": 'np.savez(open(out, "wb"), np.array([{"a": 1}], dtype=object))',
    "good": 'np.savez_compressed(open(out, "wb"), **{"0": np.ones((4, 3)), "1": np.arange(3)})',
}


def _train(tmp_path: Path, write: str, helper: str | None):
    package = tmp_path / "package"
    package.mkdir(exist_ok=True)
    (package / "train.py").write_text(textwrap.dedent(TRAIN.format(write=write)), encoding="utf-8")
    runner = EntryPointRunner(
        package, {"train": "python train.py"}, PythonEnvironment(python=PYTHON, bin_dir=PYTHON.parent), None
    )
    model_in = tmp_path / "in.npz"
    np.savez(model_in, np.zeros(1))
    return runner.train(model_in, tmp_path / "out.npz", helper_type=helper)


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("not a model", "not a numpy .npz file"),
        ("NaN", "array '1' (shape (4, 3)) has 1 of 12 values that are NaN or infinite"),
        ("infinity", "array '0'"),
        ("objects", "Python objects"),
    ],
)
def test_an_unusable_numpy_model_fails_the_step_and_names_the_array(tmp_path, case, words):
    with pytest.raises(ModelOutputInvalid) as info:
        _train(tmp_path, WRITES[case], "numpyhelper")
    assert words in str(info.value)
    assert "Nothing was sent" in str(info.value)


def test_a_good_numpy_model_passes(tmp_path):
    assert _train(tmp_path, WRITES["good"], "numpyhelper").metadata["num_examples"] == 5


def test_other_helpers_only_need_a_non_empty_file(tmp_path):
    # The binary helper's format is the package's own business: any non-empty file is a model.
    assert _train(tmp_path, WRITES["not a model"], "binaryhelper").model_path.stat().st_size > 0


def test_a_large_model_is_checked_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr("fedgui.core.execution.numpy_model.CHUNK_BYTES", 4096)
    weights = np.ones(100_000)
    weights[-1] = np.nan  # in the last chunk
    path = tmp_path / "big.npz"
    np.savez_compressed(path, **{"0": weights})
    with pytest.raises(NotANumpyModel, match="1 of 100000"):
        check_numpy_model(path)


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed])
def test_stored_and_compressed_models_are_checked_alike_in_chunks(tmp_path, monkeypatch, save):
    # np.savez stores arrays uncompressed: they are read straight from the file, a chunk at a time.
    monkeypatch.setattr("fedgui.core.execution.numpy_model.CHUNK_BYTES", 4096)
    weights = np.ones(100_000, dtype=np.float32)
    path = tmp_path / "model.npz"
    save(path, **{"0": weights, "1": np.arange(10_000), "2": weights.astype(">f8")})
    check_numpy_model(path)  # good
    weights[-1] = np.inf  # in the last chunk
    save(path, **{"0": np.ones(3), "1": weights})
    with pytest.raises(NotANumpyModel, match=r"array '1' .* 1 of 100000"):
        check_numpy_model(path)


def test_a_damaged_or_cut_short_stored_model_is_not_a_model(tmp_path):
    path = tmp_path / "model.npz"
    np.savez(path, **{"0": np.ones(50_000)})
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped byte in the array's data: the CRC-32 no longer matches
    path.write_bytes(bytes(raw))
    with pytest.raises(NotANumpyModel, match="damaged"):
        check_numpy_model(path)
    np.savez(path, **{"0": np.ones(50_000)})
    with open(path, "r+b") as handle:  # the array's bytes end early (the zip directory says more)
        handle.truncate(path.stat().st_size // 2)
    with pytest.raises(NotANumpyModel):
        check_numpy_model(path)
