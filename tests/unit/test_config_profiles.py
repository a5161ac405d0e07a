"""`fedgui run --config client.yaml` keeps one identity per file across restarts."""

from __future__ import annotations

import shlex
import uuid

import pytest

from fedgui.cli import build_parser
from fedgui.cli.run import approve_command
from fedgui.core.clientconfig import import_client_config
from fedgui.core.config_profiles import config_profile_store, profile_for_config


def _start(path):
    """What one `fedgui run --config path` start does with the file."""
    return profile_for_config(import_client_config(path), path)


def test_a_file_without_client_id_and_name_gets_the_same_identity_at_every_start(tmp_path):
    config = tmp_path / "client.yaml"
    config.write_text("api_url: http://127.0.0.1\napi_port: 8092\n", encoding="utf-8")
    first = _start(config)
    assert "made one" in " ".join(first.notes) and first.profile.client_id in " ".join(first.notes)
    second = _start(config)
    assert (second.profile.id, second.profile.client_id, second.profile.client_name) == (
        first.profile.id,
        first.profile.client_id,
        first.profile.client_name,
    )
    assert "same client as last time" in " ".join(second.notes)
    # Approvals made with the file are still there at the next start.
    config_profile_store().update(first.profile.id, lambda p: p.approve("c" * 64))
    assert "c" * 64 in _start(config).profile.approved_checksums
    # Another file (another path) is another client.
    other = tmp_path / "other.yaml"
    other.write_text(config.read_text(encoding="utf-8"), encoding="utf-8")
    assert _start(other).profile.client_id != first.profile.client_id


def test_the_file_decides_what_it_says_when_it_changes(tmp_path):
    config = tmp_path / "client.yaml"
    config.write_text("api_url: http://127.0.0.1\napi_port: 8092\nname: lab-a\n", encoding="utf-8")
    first = _start(config)
    fixed_id = str(uuid.uuid4())
    config.write_text(
        f"api_url: http://127.0.0.1\napi_port: 9000\nname: lab-b\nclient_id: {fixed_id}\ntoken: sekrit-123\n",
        encoding="utf-8",
    )
    second = _start(config)
    assert second.profile.id == first.profile.id
    assert second.profile.controller_url.endswith(":9000")
    assert (second.profile.client_id, second.profile.client_name) == (fixed_id, "lab-b")
    assert "sekrit-123" not in config_profile_store().path_for(first.profile.id).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--config", "client.yaml", "--data", "data dir", "--approve", "A" * 64],
        ["run", "--profile", "Lab A", "--name", "site 1", "--quiet-progress"],
    ],
)
def test_the_advice_for_an_unapproved_package_is_a_command_fedgui_run_accepts(argv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args(argv)
    checksum = "b" * 64
    advice = approve_command(args, checksum)
    words = shlex.split(advice)
    assert words[:2] == ["fedgui", "run"]
    again = build_parser().parse_args(words[1:])
    assert again.approve == [checksum]  # exactly that version, not the one approved before
    assert (again.profile, again.name, again.quiet_progress) == (args.profile, args.name, args.quiet_progress)
    if args.config:
        assert again.config == (tmp_path / "client.yaml") and again.data == (tmp_path / "data dir")


@pytest.mark.parametrize("value", ["", "abc", "g" * 64, "a" * 63])
def test_approve_wants_a_whole_checksum(value, capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["run", "--profile", "x", "--approve", value])
    assert exited.value.code == 2
    assert "64 hexadecimal digits" in capsys.readouterr().err


def test_approve_without_a_checksum_is_refused(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--profile", "x", "--approve"])
    assert "--approve" in capsys.readouterr().err
