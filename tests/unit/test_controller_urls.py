"""Controller address normalisation and download file names (no network)."""

from __future__ import annotations

import pytest

from fedgui.core.controller.client import filename_from_disposition
from fedgui.core.controller.errors import ControllerError, WrongAddress
from fedgui.core.controller.urls import normalize_controller_url


@pytest.mark.parametrize(
    ("url", "port", "prefix", "expected"),
    [
        ("localhost", None, "", "http://localhost"),
        ("localhost:8092", None, "", "http://localhost:8092"),
        ("127.0.0.1", 8092, "", "http://127.0.0.1:8092"),
        ("fedn.example.org", None, "", "https://fedn.example.org"),
        ("fedn.example.org", "443", "", "https://fedn.example.org:443"),
        ("  HTTP://LocalHost:8092/  ", None, "", "http://localhost:8092"),
        ("http://h:1234", 8092, "", "http://h:8092"),
        ("http://h:8092", None, "internal/", "http://h:8092/internal"),
        ("http://h:8092", None, "/internal", "http://h:8092/internal"),
        ("http://h:8092/", None, "//a//b//", "http://h:8092/a/b"),
        (
            "https://studio.example.org/proj-fedn-reducer/",
            None,
            "",
            "https://studio.example.org/proj-fedn-reducer",
        ),
        ("http://h:8092/api/v1/", None, "", "http://h:8092"),
        ("http://h:8092/x?y=1#z", None, "", "http://h:8092/x"),
        ("[::1]:8092", None, "", "http://[::1]:8092"),
    ],
)
def test_normalize(url, port, prefix, expected):
    assert normalize_controller_url(url, port, prefix) == expected
    # Normalising twice changes nothing, and no path carries a double slash.
    assert normalize_controller_url(expected) == expected
    assert "//" not in expected.split("://", 1)[1]


@pytest.mark.parametrize(
    ("url", "port"),
    [
        ("", None),
        ("   ", None),
        ("ftp://h", None),
        ("http://", None),
        ("http://h:99999", None),
        ("h", "abc"),
        ("h", 0),
    ],
)
def test_bad_addresses_raise_a_readable_error(url, port):
    with pytest.raises(WrongAddress) as caught:
        normalize_controller_url(url, port)
    assert isinstance(caught.value, ControllerError)
    assert caught.value.next_step
    assert "Traceback" not in str(caught.value)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("attachment; filename=8ea5fba5-1234.tgz", "8ea5fba5-1234.tgz"),
        ('attachment; filename="package.tar.gz"', "package.tar.gz"),
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ('attachment; filename="..\\\\..\\\\evil.exe"', "evil.exe"),
        ('attachment; filename=".hidden"', "hidden"),
        ('attachment; filename="a b;c.tgz"', "a_b_c.tgz"),
        ("attachment; filename*=UTF-8''caf%C3%A9.tgz", "caf_.tgz"),
        ('attachment; filename=".."', "fallback"),
        ("attachment", "fallback"),
        (None, "fallback"),
    ],
)
def test_filename_from_disposition(header, expected):
    assert filename_from_disposition(header, "fallback") == expected
