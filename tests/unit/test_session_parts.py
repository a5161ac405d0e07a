"""Unit tests for the session engine's small parts (no network)."""

import base64
import json
import threading
import time

import pytest

from fedgui.core.session.backoff import Backoff
from fedgui.core.session.control import Pause, Resume, SessionInbox, Stop
from fedgui.core.session.model_cache import ModelCache
from fedgui.core.session.tokens import token_expiry, token_is_expired


def _jwt(claims: dict) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return f"{b64(b'{}')}.{b64(json.dumps(claims).encode())}.sig"


def test_backoff_grows_caps_and_resets():
    backoff = Backoff(initial=1, factor=2, maximum=8, jitter=0)
    assert [backoff.next_delay() for _ in range(5)] == [1, 2, 4, 8, 8]
    backoff.reset()
    assert backoff.next_delay() == 1


def test_backoff_jitter_stays_within_spread():
    backoff = Backoff(initial=10, factor=1, maximum=10, jitter=0.2)
    delays = [backoff.next_delay() for _ in range(200)]
    assert all(8 <= d <= 12 for d in delays)
    assert len(set(delays)) > 1


def test_token_expiry_is_read_from_the_jwt_without_verifying():
    assert token_expiry(_jwt({"exp": 1234})) == 1234
    assert token_is_expired(_jwt({"exp": time.time() - 5}))
    assert not token_is_expired(_jwt({"exp": time.time() + 60}))
    assert not token_is_expired("not-a-jwt")
    assert not token_is_expired(None)
    assert token_expiry("a.!!!.c") is None


def test_inbox_get_wakes_on_a_request_not_only_on_timeout():
    inbox = SessionInbox()
    threading.Timer(0.05, inbox.put, args=(Stop(),)).start()
    started = time.monotonic()
    assert isinstance(inbox.get(10), Stop)
    assert time.monotonic() - started < 5
    assert inbox.stop_requested


def test_inbox_get_times_out_without_a_request_and_keeps_order():
    inbox = SessionInbox()
    assert inbox.get(0.01) is None
    inbox.put(Pause())
    inbox.put(Resume())
    assert [type(inbox.get(0)), type(inbox.get(0))] == [Pause, Resume]
    assert not inbox.stop_requested


def test_model_cache_downloads_once_and_prunes(tmp_path):
    cache = ModelCache(tmp_path / "models", keep=2)
    calls = []

    def download(path):
        calls.append(path.name)
        path.write_bytes(b"model")

    for model_id in ["a", "a", "b", "c"]:
        cache.fetch(model_id, download)
        cache.wait_for_pruning()  # old models are removed on a thread of their own
        time.sleep(0.01)  # distinct mtimes for the least-recently-used order
    assert calls == ["a.model", "b.model", "c.model"]
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["b.model", "c.model"]


@pytest.mark.parametrize("bad", ["../x", "a/b", "", ".."])
def test_model_cache_refuses_ids_that_are_not_plain_names(tmp_path, bad):
    with pytest.raises(ValueError):
        ModelCache(tmp_path).path_for(bad)


def test_model_cache_starts_empty_because_its_files_are_not_fsynced(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "old.model").write_bytes(b"from a run that may have lost power")
    cache = ModelCache(folder)
    assert not list(folder.glob("*.model"))
    assert cache.fetch("old", lambda p: p.write_bytes(b"fresh"))[1] is False


def test_entry_point_gets_a_link_and_a_script_writing_into_it_drops_the_cache_entry(tmp_path):
    from fedgui.core.session.tasks import _drop_if_changed, _hand_over

    cached = tmp_path / "m.model"
    cached.write_bytes(b"global model")
    given = tmp_path / "in.npz"
    before = _hand_over(cached, given)
    assert before is not None and given.read_bytes() == b"global model"

    _drop_if_changed(cached, before)  # untouched: the cache keeps it
    assert cached.exists()

    time.sleep(0.01)
    with open(given, "ab") as script_writes_its_input:
        script_writes_its_input.write(b" spoiled")
    _drop_if_changed(cached, before)
    assert not cached.exists()  # the next task downloads it again
