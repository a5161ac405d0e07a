"""Downloads larger than the limit stop, with a clear error, and leave no file (issue 11 §5).
Real HTTP (a local server) for the package, a real gRPC stand-in combiner for the model."""

from __future__ import annotations

import pytest

from fedgui.core.controller.client import ControllerClient
from fedgui.core.download_limit import DEFAULT_LIMIT_MB, DownloadTooLarge, limit_bytes
from fedgui.core.protocol.channel import CombinerConnection, CombinerEndpoint
from fedgui.core.protocol.testing import FakeCombiner
from fedgui.core.protocol.transfer import download_model
from tests.fednet.fake_http import FakeServer, Reply, byte_stream

SIZE = 8 * 1024 * 1024
HEADERS = {"Content-Disposition": "attachment; filename=big.tgz", "Content-Type": "application/x-tar"}


@pytest.mark.parametrize("announced", [True, False], ids=["size announced", "size not announced"])
def test_a_package_over_the_limit_is_not_kept(tmp_path, announced):
    reply = Reply(200, byte_stream(SIZE), HEADERS, content_length=SIZE if announced else None)
    with FakeServer({("GET", "/api/v1/packages/download"): reply}) as server:
        client = ControllerClient(server.url, max_download_bytes=2_000_000)
        with pytest.raises(DownloadTooLarge) as info:
            client.download_package(tmp_path)
    text = str(info.value)
    assert "compute package" in text and "2 MB" in text and "deleted" in text
    assert info.value.next_step and "settings" in info.value.next_step
    if announced:
        assert "8 MB" in text
    assert list(tmp_path.iterdir()) == []


def test_a_model_over_the_limit_is_not_kept(tmp_path):
    with FakeCombiner() as fake:
        fake.models["big"] = b"\1" * (3 * 1024 * 1024)
        endpoint = CombinerEndpoint("127.0.0.1", fake.port, use_tls=False)
        too_large = pytest.raises(DownloadTooLarge)
        with CombinerConnection(endpoint, None, "cid", "site") as conn, too_large as info:
            download_model(conn, "big", tmp_path / "model.npz", max_bytes=1_500_000)
    assert "global model big" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_the_default_limit():
    assert limit_bytes(None) == DEFAULT_LIMIT_MB * 1_000_000
    assert limit_bytes(10) == 10_000_000
