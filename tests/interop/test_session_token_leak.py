"""The token must not leak from a real session: not into the history, task logs, the entry
point's environment or argv, the package cache, fedgui's own log, or any event text.

Extends tests/unit/test_token_never_leaks.py (profiles, import, keyring) to the network part.
"""

from __future__ import annotations

import logging

from tests.fednet.packages import PACKAGE_FILES
from tests.fednet.tokens import make_jwt
from tests.interop.session_helpers import build_package, start_client

SECRET = "leak-check-secret-0123456789abcdef"

# train.py that prints its whole environment and argv into the task log.
TELLTALE_TRAIN_PY = PACKAGE_FILES["train.py"].replace(
    "def main(in_path, out_path):\n",
    "def main(in_path, out_path):\n"
    "    for key, value in sorted(os.environ.items()):\n"
    "        print(f'ENV {key}={value}')\n"
    "    print('ARGV', sys.argv, flush=True)\n",
    1,
)


def test_token_never_leaves_memory_during_a_real_session(
    fresh_fedn_network, seed_model, tmp_path, isolated_fedgui_home
):
    network = fresh_fedn_network(auth_secret=SECRET)
    network.upload_package(
        build_package(tmp_path / "telltale.tgz", {**PACKAGE_FILES, "train.py": TELLTALE_TRAIN_PY})
    )
    network.set_seed_model(seed_model)
    good = make_jwt(SECRET, role="client")
    wrong = make_jwt("another-secret", role="client")

    log_file = isolated_fedgui_home / "fedgui-debug.log"
    handler = logging.FileHandler(log_file)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    work = isolated_fedgui_home / "work"
    try:
        rejected = start_client(network, "rejected", work, token=wrong)
        rejected.recorder.wait_for_state("token_rejected", timeout=60)
        rejected.stop()

        client = start_client(network, "telltale", work, token=good)
        client.recorder.wait_for_state("ready", timeout=60)
        network.wait_clients_online(1, timeout=30)
        session_id = network.start_session(rounds=1, round_timeout=60, min_clients=1)
        network.wait_session_finished(session_id, timeout=60)
        client.recorder.wait_for(lambda: client.recorder.finished("validate"), "validation", timeout=30)
        client.stop()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()

    task_logs = list(isolated_fedgui_home.rglob("*.log"))
    assert any("ENV FEDN_DATA_PATH=" in p.read_text(errors="replace") for p in task_logs), (
        "telltale did not run"
    )
    texts = [client.recorder.log(), rejected.recorder.log()]
    texts += [
        str(e.error) for r in (client, rejected) for e in r.recorder.events if getattr(e, "error", None)
    ]
    for token in (good, wrong):
        signature = token.rsplit(".", 1)[1]
        for path in isolated_fedgui_home.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert signature.encode() not in data, f"token found in {path}"
        for text in texts:
            assert signature not in text
