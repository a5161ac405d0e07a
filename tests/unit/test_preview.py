"""``fedgui preview`` end to end with the bundled example, and its failure paths."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from fedgui.cli.preview import EXIT_ENTRY_POINT, EXIT_NOT_APPROVED, EXIT_OK, EXIT_USAGE, metrics_table
from fedgui.core.events import LogLine, MetricReported
from fedgui.core.execution.errors import EntryPointCancelled, EntryPointCrashed
from fedgui.core.package.checksum import sha256_folder
from fedgui.core.preview import Preview, PreviewApprovals, run_preview

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="entry points run through bash here")

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "resources" / "example"


def fedgui(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run ``python -m fedgui ...`` as a person would (FEDGUI_HOME comes from the test fixture)."""
    return subprocess.run(
        [sys.executable, "-m", "fedgui", *args],
        cwd=cwd,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=240,
    )


def example_args(package: Path = EXAMPLE / "package") -> list[str]:
    return [
        "preview",
        "--package",
        str(package),
        "--model",
        str(EXAMPLE / "seed.npz"),
        "--data",
        str(EXAMPLE / "data"),
    ]


@pytest.fixture
def package_copy(tmp_path) -> Path:
    copy = tmp_path / "package"
    shutil.copytree(EXAMPLE / "package", copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_example_end_to_end_through_the_cli():
    done = fedgui(*example_args(), "--approve", "--train")
    assert done.returncode == EXIT_OK, done.stderr
    out = done.stdout
    assert "[startup] train.csv: 400 rows" in out
    assert "[train] metric step 10: train_loss=" in out
    assert "[validate] test accuracy" in out
    table = out[out.index("metric  ") :]
    assert "given model" in table and "after training here" in table
    for name in ("training_loss", "training_accuracy", "test_loss", "test_accuracy"):
        assert name in table
    assert "Preview finished" in out

    # The approval is remembered: the next preview needs no --approve (and runs without --train).
    again = fedgui(*example_args())
    assert again.returncode == EXIT_OK, again.stderr
    assert "after training here" not in again.stdout


def test_relative_paths_work_from_the_repository(tmp_path):
    args = ["preview", "--package", "resources/example/package", "--model", "resources/example/seed.npz"]
    done = fedgui(*args, "--data", "resources/example/data", "--approve")
    assert done.returncode == EXIT_OK, done.stderr


def test_not_approved_stops_before_anything_runs(package_copy):
    (package_copy / "startup.py").write_text("open('startup-ran', 'w').close()\n")
    done = fedgui(*example_args(package_copy))
    assert done.returncode == EXIT_NOT_APPROVED
    checksum = sha256_folder(package_copy)
    assert "has not been approved" in done.stderr and f"--approve {checksum}" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (package_copy / "startup-ran").exists()


def test_approving_another_checksum_runs_nothing(package_copy):
    done = fedgui(*example_args(package_copy), "--approve", "0" * 64)
    assert done.returncode == EXIT_NOT_APPROVED
    assert "0" * 64 in done.stderr and "nothing was run" in done.stderr


def test_crashing_validate_reports_exit_code_and_stderr_tail(package_copy):
    (package_copy / "validate.py").write_text(
        "import sys\nprint('loading the data', file=sys.stderr)\nraise SystemExit('cannot read column x7')\n"
    )
    done = fedgui(*example_args(package_copy), "--approve")
    assert done.returncode == EXIT_ENTRY_POINT
    assert "'validate' step failed with exit code 1" in done.stderr
    assert "cannot read column x7" in done.stderr and "loading the data" in done.stderr
    assert "[validate] cannot read column x7" in done.stdout  # streamed with its prefix too
    assert "Traceback" not in done.stderr


def test_validate_writing_no_metrics_is_a_failure(package_copy):
    (package_copy / "validate.py").write_text("print('forgot to write the metrics')\n")
    done = fedgui(*example_args(package_copy), "--approve")
    assert done.returncode == EXIT_ENTRY_POINT
    assert "wrote no results" in done.stderr


def test_missing_model_file_is_a_usage_error(tmp_path):
    args = ["preview", "--package", str(EXAMPLE / "package"), "--model", str(tmp_path / "none.npz")]
    done = fedgui(*args, "--data", str(EXAMPLE / "data"), "--approve")
    assert done.returncode == EXIT_USAGE
    assert "does not exist" in done.stderr


def test_help_documents_exit_codes():
    done = fedgui("preview", "--help")
    assert done.returncode == 0
    assert "exit codes:" in done.stdout and "not approved" in done.stdout


def test_archive_package_with_profile_approvals_in_process(tmp_path):
    archive = tmp_path / "package.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted((EXAMPLE / "package").iterdir()):
            if path.is_file():
                tar.add(path, arcname=path.name)
    events: list = []
    profile_approved: list[str] = []
    result = run_preview(
        archive,
        EXAMPLE / "seed.npz",
        EXAMPLE / "data",
        train=True,
        approve=True,
        approved_checksums=profile_approved,
        sink=events.append,
    )
    assert result.newly_approved and len(result.package.checksum) == 64
    assert result.train_metadata["num_examples"] == 400
    assert result.trained_metrics["test_accuracy"] > result.model_metrics["test_accuracy"]
    assert any(isinstance(e, MetricReported) and e.source == "train" for e in events)
    assert any(isinstance(e, LogLine) and e.source == "validate" for e in events)
    # A profile's approvals are the caller's to store: the preview's own list is untouched.
    assert PreviewApprovals().checksums() == []
    # Already approved in the profile: runs without approve.
    again = run_preview(
        archive, EXAMPLE / "seed.npz", EXAMPLE / "data", approved_checksums=[result.package.checksum]
    )
    assert not again.newly_approved


def test_in_process_failure_is_a_fedgui_error(package_copy):
    (package_copy / "validate.py").write_text("raise SystemExit(4)\n")
    with pytest.raises(EntryPointCrashed) as info:
        run_preview(package_copy, EXAMPLE / "seed.npz", EXAMPLE / "data", approve=True)
    assert info.value.exit_code == 4


def test_the_given_model_file_is_never_touched(package_copy, tmp_path):
    model = tmp_path / "mine.npz"
    shutil.copyfile(EXAMPLE / "seed.npz", model)
    before = model.read_bytes()
    run_preview(package_copy, model, EXAMPLE / "data", approve=True, train=True)
    assert model.read_bytes() == before
    assert not (tmp_path / "mine.npz-metadata").exists()


def test_metrics_table_lines_up_columns():
    table = metrics_table({"given model": {"loss": 0.5, "note": "ok"}, "after": {"loss": 0.25, "extra": 1}})
    lines = table.splitlines()
    assert lines[0].split() == ["metric", "given", "model", "after"]
    assert lines[2].split() == ["loss", "0.5", "0.25"]
    assert lines[3].split() == ["note", "ok", "-"]
    assert lines[4].split() == ["extra", "-", "1"]


def test_example_seed_and_data_regenerate_byte_for_byte(tmp_path):
    subprocess.run([sys.executable, str(EXAMPLE / "make_example.py"), str(tmp_path)], check=True, timeout=60)
    for relative in ("seed.npz", "data/train.csv", "data/test.csv"):
        assert (tmp_path / relative).read_bytes() == (EXAMPLE / relative).read_bytes(), relative


def test_cancel_before_running_runs_nothing(package_copy):
    (package_copy / "startup.py").write_text("open('startup-ran', 'w').close()\n")
    preview = Preview(package_copy, EXAMPLE / "seed.npz", EXAMPLE / "data", approve=True)
    preview.cancel()
    with pytest.raises(EntryPointCancelled):
        preview.run()
    assert not (package_copy / "startup-ran").exists()


def test_the_advice_after_a_crash_is_not_glued_to_the_programs_last_line(package_copy):
    (package_copy / "validate.py").write_text("raise SystemExit('cannot read column x7')\n")
    done = fedgui(*example_args(package_copy), "--approve")
    assert done.returncode == EXIT_ENTRY_POINT
    lines = done.stderr.splitlines()
    assert "    cannot read column x7" in lines  # the quoted line alone, the advice below it
    assert any(line.startswith("If it does not tell you what to fix") for line in lines)
