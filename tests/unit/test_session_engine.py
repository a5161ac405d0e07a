"""The session state machine, driven in seconds: a fake controller, an in-process gRPC combiner
(FakeCombiner) and real entry point subprocesses (see session_fakes for what is faked and why).
The interop tests against a real FEDn network remain the proof that the session speaks FEDn."""

from __future__ import annotations

import base64
import errno
import itertools
import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from fedgui.core.controller import errors as ctl
from fedgui.core.errors import FedguiError
from fedgui.core.events import Assigned, ProfileSaved, ReviewNeeded, StateChanged, TaskFinished
from fedgui.core.execution.environment import EnvironmentBuilder
from fedgui.core.history.store import HistoryStore
from fedgui.core.package.cache import PackageCache
from fedgui.core.package.checksum import sha256_file
from fedgui.core.profile import Profile, ProfileStore
from fedgui.core.protocol.testing import FakeCombiner
from fedgui.core.session.backoff import Backoff
from fedgui.core.session.engine import PackageRejected, Session, SessionTiming, connect_combiner
from fedgui.core.session.states import SessionState as S
from tests.event_recorder import Recorder
from tests.unit.session_fakes import PACKAGE_FILES, PYTHON, FakeController, task, write_package


def fast_timing() -> SessionTiming:
    return SessionTiming(
        heartbeat_interval=0.1,
        telemetry_interval=0.5,
        token_poll_interval=0.1,
        healthy_after=60.0,
        package_check_interval=0.2,
        error_retry_interval=60.0,
        backoff=Backoff(initial=0.1, factor=2.0, maximum=0.4, jitter=0.0),
    )


def jwt(expires_in: float) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    claims = json.dumps({"exp": time.time() + expires_in}).encode()
    return f"{b64(b'{}')}.{b64(claims)}.signature"


@dataclass
class World:
    tmp: Path
    combiner: FakeCombiner
    controller: FakeController
    profile: Profile
    store: ProfileStore
    history: HistoryStore
    token: str | None = "token-1"
    session: Session | None = None
    recorder: Recorder | None = None

    def start(self, **options) -> Session:
        recorder = self.recorder = Recorder()
        session = self.session = Session(
            self.profile,
            lambda: self.token,
            history=self.history,
            profile_store=self.store,
            package_cache=PackageCache(self.tmp / "packages"),
            environment_builder=EnvironmentBuilder(self.tmp / "envs"),
            timing=options.pop("timing", None) or fast_timing(),
            work_dir=self.tmp / "work",
            controller_factory=self.controller.connect,
            # The check before the first training has its own tests (test_first_look_and_review
            # on a real network, and below); here each task is the combiner's own.
            **{"first_look": False, **options},
        )
        session.bus.subscribe(recorder)
        session.start()
        return session

    def wait_for(self, state: S, count: int = 1, timeout: float = 20.0) -> None:
        assert self.recorder is not None
        self.recorder.wait_for_state(state, count, timeout)


@pytest.fixture
def world(tmp_path):
    combiner = FakeCombiner().start()
    combiner.models["global-1"] = b"model"
    archive = write_package(tmp_path / "package.tgz")
    data = tmp_path / "data"
    data.mkdir()
    profile = Profile.new(display_name="unit", controller_url="http://controller.test", client_name="unit")
    profile.data_folder = data
    profile.base_python = PYTHON  # no python_env: entry points run with this interpreter
    profile.approve(sha256_file(archive))
    store = ProfileStore(tmp_path / "profiles")
    store.save(profile)
    history = HistoryStore(tmp_path / "history.sqlite3")
    world = World(tmp_path, combiner, FakeController(combiner.port, archive), profile, store, history)
    yield world
    if world.session is not None:
        world.session.stop_and_wait(timeout=10)
        assert world.session.state is S.STOPPED
    combiner.stop()
    history.close()


# ---- connect and tasks ---------------------------------------------------------------------


def test_connects_through_every_step_to_ready(world):
    world.start()
    world.wait_for(S.READY)
    assert world.recorder.states()[:6] == [
        S.CONNECTING_CONTROLLER,
        S.ASSIGNED,
        S.PREPARING_PACKAGE,
        S.BUILDING_ENVIRONMENT,
        S.CONNECTING_COMBINER,
        S.READY,
    ]
    (assigned,) = world.recorder.of(Assigned)
    assert assigned.network.address == f"127.0.0.1:{world.combiner.port}"
    assert world.controller.tokens == ["token-1"]
    world.recorder.wait_for(lambda: world.combiner.calls_to("TaskStream"), "the task stream")
    (stream,) = world.combiner.calls_to("TaskStream")
    assert stream.metadata["client"] == world.profile.client_id
    assert stream.metadata["authorization"] == "Bearer token-1"
    world.recorder.wait_for(lambda: len(world.combiner.calls_to("SendHeartbeat")) >= 3, "heartbeats")


def test_a_train_task_runs_the_entry_point_and_sends_the_update(world):
    world.start()
    world.wait_for(S.READY)
    world.combiner.push_task(task("train"))
    world.recorder.wait_for(lambda: world.recorder.finished(), "the train task")
    (finished,) = world.recorder.finished()
    assert finished.status == "ok", finished.error
    assert finished.metrics["num_examples"] == 3
    (update,) = world.combiner.calls_to("SendModelUpdate")
    assert world.combiner.models[update.requests[0].model_update_id] == b"model+"  # what train.py wrote
    world.wait_for(S.READY, count=2)
    assert S.WORKING in world.recorder.states()
    (row,) = world.history.tasks(world.profile.id, kind="train")
    assert row.status == "ok"


def test_a_validate_task_sends_the_metrics_of_the_global_model(world):
    world.start()
    world.wait_for(S.READY)
    world.combiner.push_task(task("validate", round_id=None))
    world.recorder.wait_for(lambda: world.recorder.finished(), "the validate task")
    (finished,) = world.recorder.finished()
    assert finished.status == "ok", finished.error
    (validation,) = world.combiner.calls_to("SendModelValidation")
    assert json.loads(validation.requests[0].data) == {"accuracy": 0.5, "size": len(b"model")}


def test_tasks_queued_together_run_one_at_a_time_in_order(world):
    world.start()
    world.wait_for(S.READY)
    for kind in ("train", "validate", "train"):
        world.combiner.push_task(task(kind))
    world.recorder.wait_for(lambda: len(world.recorder.finished()) == 3, "three tasks")
    assert [f.kind for f in world.recorder.finished()] == ["train", "validate", "train"]
    assert all(f.status == "ok" for f in world.recorder.finished())


def test_a_failing_entry_point_is_reported_and_the_session_stays_up(world):
    (world.profile.data_folder / "train-seconds").write_text("not a number")  # train.py crashes
    world.start()
    world.wait_for(S.READY)
    world.combiner.push_task(task("train"))
    world.recorder.wait_for(lambda: world.recorder.finished(), "the failed task")
    assert world.recorder.finished()[0].status == "failed"
    world.wait_for(S.READY, count=2)

    def reported() -> bool:  # statuses leave on a thread of their own (status_sender.py)
        statuses = [call.requests[0].status for call in world.combiner.calls_to("SendStatus")]
        return any("failed to complete the train task" in text for text in statuses)

    world.recorder.wait_for(reported, "the failure's status")


# ---- failures: each answer of the failure policy, as the session carries it out ----------------


@pytest.mark.parametrize(
    "failure",
    [
        ctl.ControllerUnreachable("The network cannot be reached."),
        ctl.ControllerTimeout("The network did not answer in time."),
        ctl.ControllerServerError("The network had an internal error."),
        ctl.NoCombinerAvailable("No combiner is available."),
        OSError(errno.ECONNRESET, "Connection reset"),
        ValueError("a surprise"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_passing_failure_is_retried_by_itself_after_a_back_off(world, failure):
    world.controller.assign_failures = [failure]
    world.start()
    world.wait_for(S.READY)
    states = world.recorder.states()
    assert states[:3] == [S.CONNECTING_CONTROLLER, S.RECONNECTING, S.CONNECTING_CONTROLLER]


def test_reconnect_delays_grow_and_a_retry_skips_the_wait(world):
    world.controller.assign_failures = [ctl.ControllerUnreachable("down")] * 3
    timing = fast_timing()
    world.start(timing=timing)
    world.wait_for(S.READY)
    assert world.recorder.states().count(S.RECONNECTING) == 3
    details = [e.detail for e in world.recorder.of(StateChanged) if e.state is S.RECONNECTING]
    assert timing.backoff.attempts == 3 and len(details) == 3
    stamps = world.recorder.stamps(S.CONNECTING_CONTROLLER)
    gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    assert len(gaps) == 3 and all(gap >= delay for gap, delay in zip(gaps, (0.1, 0.2, 0.4), strict=True)), (
        gaps
    )

    world.session.stop_and_wait()
    slow = fast_timing()
    slow.backoff = Backoff(initial=30.0, jitter=0.0)
    world.controller.assign_failures = [ctl.ControllerUnreachable("down")]
    world.start(timing=slow)
    world.wait_for(S.RECONNECTING)
    world.session.retry()  # "try again now" instead of waiting 30 s
    world.wait_for(S.READY, timeout=5)


def test_a_wrong_token_waits_for_a_new_one(world):
    world.controller.assign_failures = [ctl.TokenRejected("The network did not accept the token.")]
    session = world.start()
    world.wait_for(S.TOKEN_REJECTED)
    time.sleep(0.3)
    assert S.CONNECTING_CONTROLLER not in world.recorder.states()[1:]  # it does not try again alone
    session.update_token("token-2")
    world.wait_for(S.READY)
    assert world.controller.tokens == ["token-1", "token-2"]


def test_an_expired_token_found_by_the_controller_waits_for_a_new_one(world):
    world.controller.assign_failures = [ctl.TokenExpired("The token has expired.")]
    world.start()
    world.wait_for(S.TOKEN_EXPIRED)
    world.token = "token-saved-in-the-keyring"  # the keyring is read again while waiting
    world.wait_for(S.READY)
    assert world.controller.tokens[-1] == "token-saved-in-the-keyring"


def test_a_token_that_expires_while_connected_is_renewed(world):
    world.token = jwt(expires_in=1.0)
    world.combiner.token = world.token
    session = world.start()
    world.wait_for(S.READY)
    time.sleep(max(0.0, 1.1))  # the token's exp passes; the combiner now refuses it
    world.combiner.token = renewed = jwt(expires_in=3600)
    world.wait_for(S.TOKEN_EXPIRED)  # found by a failed heartbeat, told apart by its exp claim
    session.update_token(renewed)
    world.wait_for(S.READY, count=2)
    world.recorder.wait_for(lambda: len(world.combiner.calls_to("TaskStream")) == 2, "a new stream")
    assert world.combiner.calls_to("TaskStream")[-1].metadata["authorization"] == f"Bearer {renewed}"


def test_a_token_the_combiner_refuses_at_connect_is_a_token_problem(world):
    world.combiner.token = "only-this"
    world.start()
    world.wait_for(S.TOKEN_REJECTED)
    world.session.update_token("only-this")
    world.wait_for(S.READY)


@pytest.mark.parametrize(
    "failure, words",
    [
        (FedguiError("The compute package is broken."), "package is broken"),
        (OSError(errno.ENOSPC, "No space left on device"), "no space left on the disk"),
    ],
    ids=["needs-person", "disk-full"],
)
def test_a_problem_for_the_person_waits_in_error_until_retry(world, failure, words):
    world.controller.assign_failures = [failure]
    session = world.start()
    world.wait_for(S.ERROR)
    (error_state,) = [e for e in world.recorder.of(StateChanged) if e.state is S.ERROR]
    assert words in str(error_state.error)
    time.sleep(0.3)
    assert world.recorder.states()[-1] is S.ERROR  # no retry by itself within error_retry_interval
    session.retry()
    world.wait_for(S.READY)


def test_an_error_state_tries_again_by_itself_after_a_while(world):
    timing = fast_timing()
    timing.error_retry_interval = 0.3
    world.controller.assign_failures = [FedguiError("The address is wrong.")]
    world.start(timing=timing)
    world.wait_for(S.READY)
    assert S.ERROR in world.recorder.states()


def test_a_package_not_matching_the_pin_is_not_downloaded(world):
    world.profile.package_checksum_pin = "0" * 64
    world.start()
    world.wait_for(S.ERROR)
    assert world.controller.downloads == 0
    assert "pinned" in world.recorder.log()


# ---- the person's controls ---------------------------------------------------------------------


def test_pause_finishes_the_task_then_disconnects_and_resume_reconnects(world):
    (world.profile.data_folder / "train-seconds").write_text("2.0")
    session = world.start()
    world.wait_for(S.READY)
    world.combiner.push_task(task("train"))
    world.wait_for(S.WORKING)
    asked = time.monotonic()
    session.pause()
    assert time.monotonic() - asked < 0.05  # a request: it never waits for the task
    world.wait_for(S.PAUSING, timeout=1.5)  # said at once, while the task still runs
    assert not world.recorder.finished()
    world.wait_for(S.PAUSED)
    assert world.recorder.finished()[0].status == "ok"  # the task was finished, not killed
    heartbeats = len(world.combiner.calls_to("SendHeartbeat"))
    time.sleep(0.4)
    assert len(world.combiner.calls_to("SendHeartbeat")) == heartbeats  # really disconnected
    session.resume()
    world.wait_for(S.READY, count=2)
    world.recorder.wait_for(lambda: len(world.combiner.calls_to("TaskStream")) == 2, "a new stream")


def test_pause_while_waiting_for_work_disconnects_at_once(world):
    session = world.start()
    world.wait_for(S.READY)
    session.pause()
    world.wait_for(S.PAUSED, timeout=2)
    session.resume()
    world.wait_for(S.READY, count=2)


def test_stop_kills_a_running_task_within_seconds(world):
    (world.profile.data_folder / "train-seconds").write_text("60")
    session = world.start()
    world.wait_for(S.READY)
    world.combiner.push_task(task("train"))
    world.wait_for(S.WORKING)
    time.sleep(0.3)  # the entry point is running
    started = time.monotonic()
    session.stop_and_wait(timeout=10)
    assert time.monotonic() - started < 8
    assert session.state is S.STOPPED
    assert world.recorder.finished()[0].status == "cancelled"


def test_a_stop_before_the_entry_point_starts_is_not_lost(world):
    """The stop comes while the task still fetches its model and starts its step: the runner
    keeps the cancel for the step that starts next, which then never runs."""
    (world.profile.data_folder / "train-seconds").write_text("60")
    session = world.start()
    world.wait_for(S.READY)
    world.combiner.push_task(task("train"))
    world.wait_for(S.WORKING)
    started = time.monotonic()
    session.stop_and_wait(timeout=10)
    assert time.monotonic() - started < 5
    assert session.state is S.STOPPED
    assert [f.status for f in world.recorder.finished()] == ["cancelled"]


def test_a_stop_during_the_check_before_the_first_training_stops_the_task(world):
    """A stop while the first model is checked on the local data (the "preview" inside the first
    train task) ends the task: no training after it, nothing sent."""
    (world.profile.data_folder / "train-seconds").write_text("60")
    (world.profile.data_folder / "validate-seconds").write_text("60")
    session = world.start(first_look=True)
    world.wait_for(S.READY)
    world.combiner.push_task(task("train"))
    world.recorder.wait_for(lambda: "before training" in world.recorder.log(), "the check to start")
    time.sleep(0.5)  # the validate entry point is running
    started = time.monotonic()
    session.stop_and_wait(timeout=10)
    assert time.monotonic() - started < 8
    assert session.state is S.STOPPED
    finished = [(f.kind, f.status) for f in world.recorder.of(TaskFinished)]
    assert finished == [("preview", "cancelled"), ("train", "cancelled")]
    assert not world.combiner.calls_to("SendModelUpdate")


def test_request_stop_returns_at_once_and_the_session_stops(world):
    session = world.start()
    world.wait_for(S.READY)
    asked = time.monotonic()
    session.request_stop()
    assert time.monotonic() - asked < 0.05
    world.wait_for(S.STOPPED, timeout=5)


# ---- a new package ------------------------------------------------------------------------------


def test_a_new_package_waits_for_review_and_runs_only_after_approval(world):
    session = world.start()
    world.wait_for(S.READY)
    old = world.controller.package_checksum()
    changed = {**PACKAGE_FILES, "validate.py": PACKAGE_FILES["validate.py"] + "# version 2\n"}
    world.controller.archive = write_package(world.tmp / "v2.tgz", changed)
    new = world.controller.package_checksum()
    world.wait_for(S.REVIEW_NEEDED)
    (review,) = world.recorder.of(ReviewNeeded)
    assert review.package.checksum == new
    assert review.previous_checksum == old and review.previous is not None
    assert "new compute package" in world.recorder.log()
    time.sleep(0.3)
    assert len(world.combiner.calls_to("TaskStream")) == 1  # no new stream: no task can arrive
    assert world.recorder.states()[-1] is S.REVIEW_NEEDED

    session.approve_package(new)
    world.wait_for(S.READY, count=2)
    (saved,) = world.recorder.of(ProfileSaved)
    assert new in saved.profile.approved_checksums
    assert new in world.store.get(world.profile.id).approved_checksums  # saved once, by the session
    world.recorder.wait_for(lambda: len(world.combiner.calls_to("TaskStream")) == 2, "the new stream")
    world.combiner.push_task(task("validate"))
    world.recorder.wait_for(lambda: world.recorder.finished(), "the validate task")
    assert world.session.package.checksum == new


def test_a_rejected_package_waits_in_error_and_nothing_of_it_runs(world):
    world.profile.approved_checksums = []
    session = world.start()
    world.wait_for(S.REVIEW_NEEDED)
    session.reject_package()
    world.wait_for(S.ERROR)
    (error,) = [e.error for e in world.recorder.of(StateChanged) if e.state is S.ERROR]
    assert isinstance(error, PackageRejected)
    assert not world.combiner.calls_to("TaskStream")


def test_auto_approve_saves_the_approval(world):
    world.profile.approved_checksums = []
    world.start(auto_approve=True)
    world.wait_for(S.READY)
    assert world.controller.package_checksum() in world.store.get(world.profile.id).approved_checksums


def test_the_combiner_connection_comes_from_the_injected_factory(world):
    made = []

    def factory(endpoint, token, profile):
        made.append((endpoint.target, token))
        return connect_combiner(endpoint, token, profile)

    world.start(combiner_factory=factory)
    world.wait_for(S.READY)
    assert made == [(f"127.0.0.1:{world.combiner.port}", "token-1")]


def test_approving_a_package_not_under_review_saves_it_on_the_session_thread(world):
    session = world.start()
    world.wait_for(S.READY)
    other = "ab" * 32
    session.approve_package(other)
    world.recorder.wait_for(lambda: world.recorder.of(ProfileSaved), "the saved approval")
    assert other in world.store.get(world.profile.id).approved_checksums
    assert world.recorder.states()[-1] is S.READY  # the connection was not disturbed


def test_a_stopped_session_starts_again(world):
    session = world.start()
    world.wait_for(S.READY)
    session.pause()
    world.wait_for(S.PAUSED)
    session.stop_and_wait()
    session.start()  # a fresh start: not paused any more
    world.wait_for(S.READY, count=2)


def test_the_first_global_model_is_tried_on_the_persons_data_before_training(world):
    """Before the first training, the network's model is validated locally (kind "preview"):
    how it does on this person's data, shown without sending anything back."""
    world.start(first_look=True)  # the world leaves the check out unless asked
    world.wait_for(S.READY)
    world.combiner.push_task(task("train"))
    world.recorder.wait_for(lambda: world.recorder.finished(), "the train task")
    previews = [e for e in world.recorder.of(TaskFinished) if e.kind == "preview"]
    assert len(previews) == 1 and previews[0].status == "ok"
    assert previews[0].metrics["accuracy"] == 0.5
