"""Importing FEDn client configuration files (0.33, Studio, legacy) as profiles."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from fedgui.core.clientconfig import (
    ClientConfigError,
    build_controller_url,
    import_client_config,
)
from fedgui.core.profile import ProfileStore

CLIENT_ID = "7c3e0f3a-1b2c-4d5e-8f90-123456789abc"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiY2xpZW50In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def write(tmp_path: Path, text: str, name: str = "client.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_self_hosted_033_file(tmp_path):
    path = write(
        tmp_path,
        f"api_url: http://localhost\n"
        f"api_port: 8092\n"
        f"name: site-a\n"
        f"client_id: {CLIENT_ID}\n"
        f"token: {JWT}\n"
        f"preferred_combiner: combiner-1\n"
        f"package_checksum: {'AB' * 32}\n"
        f"helper_type: numpyhelper\n",
    )
    imported = import_client_config(path)
    profile = imported.profile
    assert profile.controller_url == "http://localhost:8092"
    assert profile.display_name == profile.client_name == "site-a"
    assert profile.client_id == CLIENT_ID
    assert profile.preferred_combiner == "combiner-1"
    assert profile.package_checksum_pin == "ab" * 32
    assert profile.helper_type == "numpyhelper"
    assert profile.tls_verify is True
    assert imported.token == JWT
    assert imported.unknown_keys == []
    assert imported.notes == []
    assert JWT not in repr(imported)


def test_studio_file_keeps_the_path_prefix(tmp_path):
    path = write(
        tmp_path,
        f"client_id: {CLIENT_ID}\n"
        "discover_host: api.fedn.scaleoutsystems.com/my-project-fedn-reducer\n"
        "name: site-a_0\n"
        f"token: {JWT}\n"
        "refresh_token: some-refresh-token\n",
    )
    imported = import_client_config(path)
    assert imported.profile.controller_url == "https://api.fedn.scaleoutsystems.com/my-project-fedn-reducer"
    assert imported.token == JWT
    assert imported.unknown_keys == []
    assert any(note.startswith("refresh_token is not used") for note in imported.notes)
    assert "some-refresh-token" not in repr(imported)


def test_legacy_discover_keys_override_api_keys(tmp_path):
    path = write(
        tmp_path,
        "network_id: fedn-network\n"
        "api_url: http://ignored.example.org\n"
        "api_port: 1111\n"
        "discover_host: controller.example.org\n"
        "discover_port: 8092\n"
        "secure: true\n"
        "force_ssl: false\n"
        "verify: false\n"
        "logfile: fedn.log\n",
    )
    imported = import_client_config(path)
    profile = imported.profile
    # force_ssl: false chose http even though the host is not local (as old FEDn did).
    assert profile.controller_url == "http://controller.example.org:8092"
    assert profile.tls_verify is False
    notes = " ".join(imported.notes)
    for key in ("discover_host", "discover_port", "force_ssl", "verify", "network_id", "secure", "logfile"):
        assert key in notes
    assert imported.unknown_keys == []
    assert uuid.UUID(profile.client_id)  # made, since the file had none
    assert profile.client_name.startswith("client") and len(profile.client_name) == 14


def test_force_ssl_true_chooses_https_for_localhost(tmp_path):
    path = write(tmp_path, "discover_host: localhost\ndiscover_port: 8092\nforce_ssl: true\n")
    imported = import_client_config(path)
    assert imported.profile.controller_url == "https://localhost:8092"


def test_unknown_keys_are_reported_not_dropped(tmp_path):
    imported = import_client_config(
        write(tmp_path, "api_url: https://c.example.org\nmystery: 1\nanother_thing: {a: 2}\ncombiner: x\n")
    )
    assert imported.unknown_keys == ["another_thing", "mystery"]
    assert any(note.startswith("combiner is not used") for note in imported.notes)


@pytest.mark.parametrize(
    ("host", "port", "force_ssl", "expected"),
    [
        ("localhost", 8092, None, "http://localhost:8092"),
        ("127.0.0.1", None, None, "http://127.0.0.1"),
        ("fedn.example.org", 443, None, "https://fedn.example.org:443"),
        ("http://fedn.example.org", 8092, None, "http://fedn.example.org:8092"),
        ("http://fedn.example.org:8092/", None, None, "http://fedn.example.org:8092"),
        ("http://fedn.example.org:8092", 8092, None, "http://fedn.example.org:8092"),
        ("HTTPS://FEDN.Example.org//a//b/", None, None, "https://fedn.example.org/a/b"),
        (
            "studio.example.org/proj-fedn-reducer/",
            443,
            None,
            "https://studio.example.org:443/proj-fedn-reducer",
        ),
        ("http://fedn.example.org", None, True, "https://fedn.example.org"),
        ("[::1]", 8092, None, "http://[::1]:8092"),
    ],
)
def test_controller_url_forms(host, port, force_ssl, expected):
    url = build_controller_url(host, port, force_ssl)
    assert url == expected
    assert "//" not in url.split("://", 1)[1]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("api_url: http://localhost\ntoken: [unclosed\n", "not valid YAML at line", 3),
        ("- api_url\n- token\n", "does not contain settings", 1),
        ("just a string\n", "does not contain settings", 1),
        ("", "does not contain settings", 1),
        ("name: site\ntoken: abc\n", "neither api_url nor discover_host", None),
        ("api_url: http://localhost\napi_port: eighty\n", "at line 2, api_port should be a port number", 2),
        ("api_url: http://localhost\napi_port: 70000\n", "between 1 and 65535", 2),
        ("api_url: http://localhost:1\napi_port: 2\n", "already has port 1", 1),
        ("api_url: ftp://files.example.org\n", "not an http(s) address", 1),
        ("api_url: http://localhost\nverify: maybe\n", "verify should be true or false", 2),
        ("api_url: http://localhost\npackage_checksum: abc\n", "not a SHA-256", 2),
    ],
)
def test_unusable_files_name_the_file_and_line(tmp_path, text, message, line):
    path = write(tmp_path, text)
    with pytest.raises(ClientConfigError) as caught:
        import_client_config(path)
    error = caught.value
    assert message in str(error)
    assert str(path) in str(error)
    assert error.path == path
    assert error.line == line
    assert error.next_step  # always tells the person what to do


def test_yaml_error_does_not_quote_the_token(tmp_path):
    path = write(tmp_path, f"api_url: http://localhost\ntoken: {JWT}\nbroken: [\n")
    with pytest.raises(ClientConfigError) as caught:
        import_client_config(path)
    assert JWT not in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(ClientConfigError, match="could not read"):
        import_client_config(tmp_path / "nope.yaml")


def test_imported_profile_saves_without_the_token(tmp_path):
    imported = import_client_config(write(tmp_path, f"api_url: localhost\napi_port: 8092\ntoken: {JWT}\n"))
    assert imported.profile.controller_url == "http://localhost:8092"
    assert imported.profile.display_name == "localhost"
    path = ProfileStore().save(imported.profile)
    assert JWT not in path.read_text()


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path):
    # 20 MB in one value: before, parsed for seconds at many times its size in memory.
    import time

    from fedgui.core.clientconfig import ClientConfigError

    path = tmp_path / "client.yaml"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("api_url: http://127.0.0.1\napi_port: 8092\ntoken: ")
        handle.write("a" * 20_000_000)
        handle.write("\n")
    started = time.monotonic()
    with pytest.raises(ClientConfigError, match="too large") as info:
        import_client_config(path)
    assert time.monotonic() - started < 1.0
    assert "aaaa" not in str(info.value)
