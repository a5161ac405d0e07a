"""Connection profiles: YAML round trip, atomic writes, schema upgrades, broken files, names."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from fedgui.core import fileio
from fedgui.core.paths import config_dir
from fedgui.core.profile import (
    SCHEMA_VERSION,
    Profile,
    ProfileError,
    ProfileNameTaken,
    ProfileNotFound,
    ProfileStore,
    unique_name,
    upgrade_profile_data,
)


def full_profile(name: str = "Hospital A") -> Profile:
    return Profile.new(
        name,
        "https://fedn.example.org:8092/prefix",
        client_name="site-a",
        data_folder=Path("/data/site a"),
        preferred_combiner="combiner-1",
        tls_verify=False,
        ca_bundle=Path("/etc/ssl/ca.pem"),
        extra_env={"BATCH_SIZE": "32", "FEDN_NUM_DATA_SPLITS": "2"},
        base_python="/usr/bin/python3.11",
        approved_checksums=["a" * 64],
        last_approved_checksum="a" * 64,
        package_checksum_pin="b" * 64,
        helper_type="numpyhelper",
        ready=True,
        log_retention_days=7,
        cpu_thread_limit=4,
        gpu="0",
    )


def test_new_profile_gets_ids_and_default_folder():
    profile = Profile.new("Site", "http://localhost:8092")
    assert uuid.UUID(profile.id) and uuid.UUID(profile.client_id)
    assert profile.id != profile.client_id
    assert profile.client_name == "Site"
    assert ProfileStore().folder == config_dir() / "profiles"


def test_round_trip_keeps_every_field():
    store = ProfileStore()
    profile = full_profile()
    path = store.save(profile)
    assert path == config_dir() / "profiles" / f"{profile.id}.yaml"
    assert store.get(profile.id) == profile
    assert store.list() == [profile]
    assert "BATCH_SIZE" not in repr(profile)  # extra_env may hold credentials
    stored = yaml.safe_load(path.read_text())
    assert stored["schema_version"] == SCHEMA_VERSION
    assert stored["data_folder"] == "/data/site a"


def test_non_ascii_names_stay_readable_and_line_breaks_survive():
    store = ProfileStore()
    readable = Profile.new("Klinik Köln", "http://localhost:8092")
    assert "Klinik Köln" in store.save(readable).read_text(encoding="utf-8")
    odd = Profile.new("Site", "http://localhost:8092", extra_env={"A": "x\x85y"})
    store.save(odd)
    assert store.get(odd.id).extra_env == {"A": "x\x85y"}


def test_client_id_is_kept_across_saves():
    store = ProfileStore()
    profile = Profile.new("Site", "http://localhost:8092")
    store.save(profile)
    loaded = store.get(profile.id)
    loaded.ready = True
    store.save(loaded)
    assert store.get(profile.id).client_id == profile.client_id


@settings(max_examples=40, deadline=None)
@given(
    name=st.text(min_size=1, max_size=40).filter(lambda s: s.strip()),
    env=st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=20), max_size=4),
    retention=st.integers(min_value=0, max_value=10_000),
)
def test_round_trip_any_text(tmp_path_factory, name, env, retention):
    store = ProfileStore(tmp_path_factory.mktemp("profiles"))
    profile = Profile.new(name, "http://localhost:8092", extra_env=env, log_retention_days=retention)
    store.save(profile)
    assert store.get(profile.id) == profile


def test_failed_write_leaves_the_old_file_intact(monkeypatch):
    store = ProfileStore()
    profile = full_profile()
    path = store.save(profile)
    before = path.read_bytes()

    real_fsync = fileio.os.fsync

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", disk_full)
    profile.display_name = "Renamed"
    with pytest.raises(OSError):
        store.save(profile)
    monkeypatch.setattr(fileio.os, "fsync", real_fsync)

    assert path.read_bytes() == before
    assert [p.name for p in store.folder.iterdir()] == [path.name]  # no temp file left behind
    assert store.get(profile.id).display_name == "Hospital A"


def test_upgrade_from_hand_written_v0_file():
    store = ProfileStore()
    profile_id = str(uuid.uuid4())
    store.folder.mkdir(parents=True, exist_ok=True)
    path = store.folder / f"{profile_id}.yaml"
    # A prototype file: no schema_version, no id inside, FEDn-style key names, no client_id.
    path.write_text(
        "name: Old Site\n"
        "api_url: http://localhost\n"
        "api_port: 8092\n"
        "verify: false\n"
        "data_path: /data/old\n"
        "client_name: old-client\n",
        encoding="utf-8",
    )
    profile = store.get(profile_id)
    assert profile.id == profile_id
    assert profile.display_name == "Old Site"
    assert profile.controller_url == "http://localhost:8092"
    assert profile.tls_verify is False
    assert profile.data_folder == Path("/data/old")
    assert profile.client_name == "old-client"
    assert uuid.UUID(profile.client_id)
    assert profile.extra == {}

    # Saving writes the current version, and the client id made during the upgrade sticks.
    store.save(profile)
    stored = yaml.safe_load(path.read_text())
    assert stored["schema_version"] == SCHEMA_VERSION
    assert "api_url" not in stored and "name" not in stored
    assert store.get(profile_id).client_id == profile.client_id


def test_upgrade_steps_run_in_order_from_the_file_version():
    calls = []

    def step(n):
        def run(data):
            calls.append(n)
            return {**data, f"step{n}": True}

        return run

    steps = [step(0), step(1), step(2)]
    assert upgrade_profile_data({"schema_version": 1}, steps) == {
        "schema_version": 3,
        "step1": True,
        "step2": True,
    }
    assert calls == [1, 2]
    assert upgrade_profile_data({"schema_version": 3}, steps) == {"schema_version": 3}


def test_unknown_keys_from_a_newer_version_are_kept_on_save():
    store = ProfileStore()
    profile = Profile.new("Site", "http://localhost:8092")
    path = store.save(profile)
    data = yaml.safe_load(path.read_text())
    data["schema_version"] = SCHEMA_VERSION + 1
    data["future_setting"] = {"colour": "blue"}
    path.write_text(yaml.safe_dump(data))

    loaded = store.get(profile.id)
    assert loaded.extra["future_setting"] == {"colour": "blue"}
    assert "future_setting" not in repr(loaded)
    loaded.ready = True
    store.save(loaded)
    again = yaml.safe_load(path.read_text())
    assert again["future_setting"] == {"colour": "blue"}
    # The newer version number is kept, so the newer fedgui does not re-run old upgrades.
    assert again["schema_version"] == SCHEMA_VERSION + 1
    assert again["ready"] is True


def test_a_token_written_into_a_profile_by_hand_is_dropped():
    store = ProfileStore()
    profile = Profile.new("Site", "http://localhost:8092")
    path = store.save(profile)
    path.write_text(path.read_text() + "token: pasted-secret-value\n")
    loaded = store.get(profile.id)
    assert "token" not in loaded.extra
    store.save(loaded)
    assert "pasted-secret-value" not in path.read_text()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("display_name: [unclosed\n", "not valid YAML near line"),
        ("- just\n- a list\n", "does not hold a profile"),
        ("", "does not hold a profile"),
        ("schema_version: 1\ndisplay_name: X\n", "missing"),
        (None, "could not be read"),
    ],
)
def test_corrupt_file_is_reported_and_others_still_load(content, expected):
    store = ProfileStore()
    good = Profile.new("Good", "http://localhost:8092")
    store.save(good)
    bad_path = store.folder / f"{uuid.uuid4()}.yaml"
    if content is None:
        bad_path.write_bytes(b"\xff\xfe not utf-8 \xff")
    else:
        bad_path.write_text(content, encoding="utf-8")

    scan = store.scan()
    assert scan.profiles == [good]
    assert len(scan.broken) == 1
    error = scan.broken[0]
    assert isinstance(error, ProfileError)
    assert error.path == bad_path
    assert str(bad_path) in str(error)
    assert expected in str(error)
    assert "other profiles are not affected" in str(error)
    assert store.list() == [good]
    with pytest.raises(ProfileError, match=bad_path.name):
        store.get(bad_path.stem)


def test_wrong_field_type_names_the_field():
    store = ProfileStore()
    profile = Profile.new("Site", "http://localhost:8092")
    path = store.save(profile)
    path.write_text(path.read_text().replace("log_retention_days: 30", "log_retention_days: yes"))
    with pytest.raises(ProfileError, match="log_retention_days"):
        store.get(profile.id)


def test_id_and_file_name_must_agree():
    store = ProfileStore()
    profile = Profile.new("Site", "http://localhost:8092")
    path = store.save(profile)
    moved = path.with_name(f"{uuid.uuid4()}.yaml")
    path.rename(moved)
    assert store.list() == []
    assert "says its id is" in str(store.problems()[0])


def test_names_are_unique_ignoring_case():
    store = ProfileStore()
    store.save(Profile.new("Hospital A", "http://localhost:8092"))
    with pytest.raises(ProfileNameTaken, match="Hospital A"):
        store.save(Profile.new("HOSPITAL a", "http://localhost:8092"))
    # Saving the same profile again is not a clash with itself.
    profile = store.get("hospital a")
    store.save(profile)
    assert unique_name("hospital A", [p.display_name for p in store.list()]) == "hospital A (2)"
    assert unique_name("Other", ["Hospital A"]) == "Other"


def test_empty_name_is_refused():
    with pytest.raises(ProfileError, match="needs a name"):
        ProfileStore().save(Profile.new("  ", "http://localhost:8092"))


def test_get_by_name_and_missing_profiles():
    store = ProfileStore()
    profile = store.save(Profile.new("Site", "http://localhost:8092")) and store.list()[0]
    assert store.get("SITE") == profile
    with pytest.raises(ProfileNotFound, match="Nowhere"):
        store.get("Nowhere")
    with pytest.raises(ProfileNotFound):
        store.get(str(uuid.uuid4()))
    store.delete(profile.id)
    assert store.list() == []
    with pytest.raises(ProfileNotFound):
        store.delete(profile.id)


def test_ids_cannot_point_outside_the_folder():
    with pytest.raises(ProfileError, match="not a valid profile id"):
        ProfileStore().path_for("../../etc/passwd")


def test_list_is_sorted_and_empty_folder_is_fine(tmp_path):
    store = ProfileStore(tmp_path / "does-not-exist-yet")
    assert store.list() == [] and store.problems() == []
    for name in ("beta", "Alpha", "gamma"):
        store.save(Profile.new(name, "http://localhost:8092"))
    assert [p.display_name for p in store.list()] == ["Alpha", "beta", "gamma"]


def test_approve_remembers_checksums_once():
    profile = Profile.new("Site", "http://localhost:8092")
    profile.approve("A" * 64)
    profile.approve("a" * 64)
    profile.approve("c" * 64)
    assert profile.approved_checksums == ["a" * 64, "c" * 64]
    assert profile.last_approved_checksum == "c" * 64
