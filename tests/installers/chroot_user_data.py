"""Make or check the data a person has after using fedgui: a profile with an approved package, a
task with metrics and a log in the history, and the token in the keyring. Runs INSIDE a test
chroot with the installed app's interpreter (/opt/fedgui/venv/bin/python), as that person, through
fedgui's own modules - so it writes exactly what the installed version writes.

    python chroot_user_data.py make      writes the data, prints it as JSON
    python chroot_user_data.py check     reads it back, prints it as JSON (exit 1 if anything is missing)

It must run with only the installed app's interpreter: no imports from the tests package.
"""

from __future__ import annotations

import json
import sys

from fedgui.core.history.store import HistoryStore
from fedgui.core.profile import Profile, ProfileStore
from fedgui.core.secrets import SecretStore

DISPLAY_NAME = "Clinic network"
CHECKSUM = "ab" * 32
TOKEN = "token-made-before-the-upgrade"
LOG_LINE = "epoch 1: loss 0.42"


def make() -> dict:
    profiles = ProfileStore()
    profile = Profile.new(DISPLAY_NAME, "https://fedn.example.org", ready=True)
    profile.approve(CHECKSUM)
    profiles.save(profile)
    SecretStore().set_token(profile.id, TOKEN)
    history = HistoryStore()
    task = history.start_task(profile.id, "validate", round_id="round-1", package_checksum=CHECKSUM)
    history.add_metrics(task, "validation", {"accuracy": 0.875})
    log = history.open_task_log(task)
    log.write_line(LOG_LINE)
    log.close()
    history.finish_task(task, "ok")
    history.close()
    return {"profile": profile.id, "task": task}


def check() -> dict:
    found: dict = {}
    profile = ProfileStore().get(DISPLAY_NAME)
    found["profile"] = profile.id
    found["approved"] = CHECKSUM in profile.approved_checksums and profile.last_approved_checksum == CHECKSUM
    found["token"] = SecretStore().get_token(profile.id) == TOKEN
    history = HistoryStore()
    tasks = history.tasks(profile.id)
    found["task"] = tasks[0].id if tasks else None
    if tasks:
        found["task_status"] = tasks[0].status
        metrics = {m.key: m.value for m in history.metrics_for(tasks[0].id)}
        found["metrics"] = metrics
        found["log"] = LOG_LINE in history.task_log_path(tasks[0].id).read_text()
    history.close()
    return found


def main(argv: list[str]) -> int:
    if argv == ["make"]:
        print(json.dumps(make()))
        return 0
    if argv == ["check"]:
        found = check()
        print(json.dumps(found))
        good = (
            found.get("approved")
            and found.get("token")
            and found.get("log")
            and found.get("task_status") == "ok"
        )
        return 0 if good else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
