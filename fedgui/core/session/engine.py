"""The participation session: the client's state machine.

idle → connecting (controller) → assigned → preparing package (gate, approval, environment,
``startup``) → connecting (combiner) → ready ⇄ working → … with reconnecting, paused, stopped
and the states that wait for the person (review needed, token rejected/expired, error).

One thread (``session-main``) walks through these states and is the only one that changes
them. The GUI and the headless console observe the events on :attr:`Session.bus` and send
requests (:meth:`pause`, :meth:`resume`, :meth:`approve_package`, :meth:`update_token`,
:meth:`retry`, :meth:`request_stop`) that go into the session's inbox and return at once; the
session thread carries them out at its next wait. Only :meth:`stop_and_wait` blocks.

While connected, helper threads report through the same inbox: the task stream reader (a task
arrived, the stream ended), the task runner (a task is done) and the package watcher. So the
session thread is free to answer a pause or a stop while it waits for work or a task runs.

Each connection goes controller → assignment → package (``package_fetch``, then the prepare
pipeline: approval, environment) → combiner; the tasks themselves run in ``tasks``.

Pause finishes the running task and then disconnects cleanly from the combiner (stream closed,
heartbeats stopped): a paused client that still heartbeats would be handed tasks it will not do,
and the network's round would wait for it until its timeout.
"""

from __future__ import annotations

import collections
import copy
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fedgui.core import paths
from fedgui.core.controller.errors import ControllerUnreachable
from fedgui.core.controller.transport_security import require_secure_controller, token_exposure_notice
from fedgui.core.download_limit import limit_bytes
from fedgui.core.errors import FedguiError
from fedgui.core.events import (
    Assigned,
    EventBus,
    NetworkDetails,
    ProfileSaved,
    ReviewNeeded,
    StateChanged,
    client_line,
)
from fedgui.core.execution.environment import EnvironmentBuilder
from fedgui.core.execution.sandbox import IsolationSupport, IsolationUnavailable
from fedgui.core.history.store import HistoryStore
from fedgui.core.package.cache import PackageCache, PreparedPackage
from fedgui.core.package.errors import PackageNotApproved
from fedgui.core.package.permissions import PackagePermissions
from fedgui.core.prepare import PreparePipeline, PrepareStep, ProfileApprovals, RunSettings
from fedgui.core.profile import Profile, ProfileStore
from fedgui.core.profile_lock import ProfileLock
from fedgui.core.protocol.channel import CombinerConnection, CombinerEndpoint
from fedgui.core.protocol.errors import CombinerUnreachable
from fedgui.core.session.backoff import Backoff, ReturnWatch, reset_after_healthy
from fedgui.core.session.connection import CombinerLink
from fedgui.core.session.control import (
    Approve,
    NewToken,
    PackageChanged,
    Pause,
    Reject,
    Resume,
    Retry,
    SessionInbox,
    Stop,
    StreamEnded,
    TaskArrived,
    TaskDone,
    TaskWorking,
)
from fedgui.core.session.failures import Disposition, classify
from fedgui.core.session.model_cache import ModelCache
from fedgui.core.session.package_fetch import PackageFetcher
from fedgui.core.session.package_watch import DEFAULT_INTERVAL, PackageChangeDetector, PackageWatcher
from fedgui.core.session.states import SessionState, describe
from fedgui.core.session.tasks import TaskContext, TaskExecutor

log = logging.getLogger(__name__)

TokenSource = Callable[[], "str | None"]
#: (profile, token) → a client for the controller's REST API; tests pass a fake.
ControllerFactory = Callable[[Profile, "str | None"], Any]
#: (where the combiner is, token, profile) → an open gRPC connection to it.
CombinerFactory = Callable[[CombinerEndpoint, "str | None", Profile], CombinerConnection]


def connect_controller(profile: Profile, token: str | None) -> Any:
    """The real controller client (FEDn's REST API)."""
    from fedgui.core.controller.client import ControllerClient  # local: keeps `import session` light

    return ControllerClient(
        profile.controller_url,
        token=token,
        verify=profile.tls_verify_argument,
        timeout=10.0,
        max_download_bytes=limit_bytes(profile.download_limit_mb),
    )


def connect_combiner(endpoint: CombinerEndpoint, token: str | None, profile: Profile) -> CombinerConnection:
    """The real gRPC connection to the assigned combiner."""
    return CombinerConnection(endpoint, token, profile.client_id, profile.client_name)


LINK_REPORTS = (TaskArrived, TaskWorking, TaskDone, StreamEnded)


class SessionStopped(Exception):
    """Raised inside the session thread to unwind when the person stops the session."""


class PackageRejected(FedguiError):
    default_next_step = (
        "fedgui will not take part until you approve a package. Open the review to look at it again."
    )


@dataclass
class SessionTiming:
    heartbeat_interval: float = 2.0  # the combiner drops clients silent for more than 10 s
    telemetry_interval: float = 5.0
    token_poll_interval: float = 5.0  # how often a waiting session re-reads the keyring
    healthy_after: float = 20.0  # connected this long → the next break backs off from the start
    return_probe_interval: float = 1.0  # while backing off, how often to see if the server is back
    package_check_interval: float = DEFAULT_INTERVAL  # how often to ask whether the package changed
    error_retry_interval: float = 300.0  # an error state tries again by itself after this long
    #: A fixed time limit for every step (seconds), over the profile's and the network's (tests).
    task_timeout: float | None = None
    backoff: Backoff = field(default_factory=Backoff)


class Session:
    """Take part in one FEDn network with one profile."""

    def __init__(
        self,
        profile: Profile,
        token_source: TokenSource,
        *,
        bus: EventBus | None = None,
        history: HistoryStore | None = None,
        profile_store: ProfileStore | None = None,
        package_cache: PackageCache | None = None,
        environment_builder: EnvironmentBuilder | None = None,
        auto_approve: bool = False,
        allow_unisolated: bool = False,
        isolation: IsolationSupport | None = None,
        timing: SessionTiming | None = None,
        work_dir: Path | None = None,
        controller_factory: ControllerFactory = connect_controller,
        combiner_factory: CombinerFactory = connect_combiner,
        first_look: bool = True,
    ) -> None:
        """``first_look``: validate the first model the network sends on this computer's data
        before the first update goes back (see TaskExecutor._first_look)."""
        self._first_look = first_look
        self.profile = copy.deepcopy(profile)  # its own copy: views and dialogs keep theirs
        self.bus = bus or EventBus()
        self.history = history or HistoryStore()
        self.timing = timing or SessionTiming()
        self._token_source = token_source
        self._token_override: str | None = None
        self._packages = package_cache or PackageCache()
        # Approvals live in this session's copy of the profile and are saved to its file.
        self._approvals = ProfileApprovals(
            self.profile, profile_store, on_saved=lambda saved: self.bus.emit(ProfileSaved(saved))
        )
        self._pipeline = PreparePipeline(
            self._approvals,
            environments=environment_builder or EnvironmentBuilder(),
            sink=self.bus.emit,
            on_step=self._prepare_step,
            isolation=isolation,
        )
        self._auto_approve = auto_approve
        self._allow_unisolated = allow_unisolated
        self._answer: Approve | None = None
        self._connect_controller = controller_factory
        self._connect_combiner = combiner_factory
        self._work_dir = Path(work_dir or paths.cache_dir() / "work" / profile.id)
        self._models = ModelCache(self._work_dir / "models")
        self._fetcher = PackageFetcher(
            self.profile, self._packages, profile_store, self._work_dir, self.bus, self._check_stop
        )
        self._inbox = SessionInbox()
        self._pause_requested = False  # these three are read and written on the session thread only
        self._retry_now = False
        self._package_changed = False
        self._stream_opened_at: float | None = None
        self._combiner_address: tuple[str, int] | None = None
        # One running session per profile, across processes (the desktop app, `fedgui run`).
        profiles_folder = profile_store.folder if profile_store else paths.config_dir() / "profiles"
        self._profile_lock = ProfileLock.for_profile(profiles_folder, profile.id)
        self._state = SessionState.IDLE
        self._state_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._link: CombinerLink | None = None
        self._pending_review: PreparedPackage | None = None
        self._approval_answer: bool | None = None
        self._started_package: str | None = None  # checksum whose `startup` already ran
        self._rounds: dict[str, str] = {}  # session id → latest training round seen
        self.assignment: Any = None  # the controller's Assignment, once assigned
        self._round_timeouts: dict[str, float] = {}  # session id → its rounds' time limit
        self._said_token_unencrypted = False
        self.package: PreparedPackage | None = None
        self.last_error: FedguiError | None = None

    # ---- public controls -------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def pending_review(self) -> PreparedPackage | None:
        """The package waiting for approval while the state is REVIEW_NEEDED."""
        return self._pending_review

    def start(self) -> None:
        """Start the session thread (returns at once)."""
        if self._thread and self._thread.is_alive():
            return
        if self._inbox.stop_requested:  # started again after a stop: a fresh inbox
            self._inbox = SessionInbox()
            self._pause_requested = self._retry_now = self._package_changed = False
        self._thread = threading.Thread(target=self._run, name="session-main", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        """Finish the running task, then disconnect until :meth:`resume` (returns at once)."""
        self._inbox.put(Pause())

    def resume(self) -> None:
        self._inbox.put(Resume())

    def request_stop(self) -> None:
        """Ask the session to stop; returns at once. The session cancels the running entry point
        (its whole process tree) or environment build, disconnects, and emits STOPPED."""
        self._inbox.put(Stop())
        # The steps that keep the session thread busy for long cannot read the inbox: cancel
        # them from here (each cancel only sets a flag or signals a process, and returns at once).
        self._pipeline.cancel()

    def stop_and_wait(self, timeout: float = 30.0) -> None:
        """Stop and block until the session thread has ended (at most ``timeout`` seconds).
        The only control that waits: call it from a worker thread or the command line."""
        self.request_stop()
        if self._thread:
            self._thread.join(timeout)
        if self._state is not SessionState.STOPPED:
            self._set_state(SessionState.STOPPED)

    def is_running(self) -> bool:
        """True while the session thread has not ended."""
        return bool(self._thread and self._thread.is_alive())

    def join(self, timeout: float | None = None) -> None:
        if self._thread:
            self._thread.join(timeout)

    def approve_package(
        self, checksum: str, permissions: PackagePermissions | None = None, run_unisolated: bool = False
    ) -> None:
        """The person approved the package under review (or one they reviewed earlier), with what
        they allowed this version beyond the isolation and whether they agreed to run it
        unisolated where this computer cannot isolate it. Returns at once: the session thread
        saves the approval."""
        self._inbox.put(Approve(checksum, permissions, run_unisolated))

    @property
    def isolation(self) -> IsolationSupport:
        """How this computer isolates the package's steps (found out once)."""
        return self._pipeline.isolation

    def reject_package(self) -> None:
        self._inbox.put(Reject())

    def update_token(self, token: str) -> None:
        """A new token from the person; a session waiting in a token state tries again at once."""
        self._inbox.put(NewToken(token))

    def retry(self) -> None:
        """Leave an error state (or a reconnect wait) and try again now."""
        self._inbox.put(Retry())

    # ---- state and events ------------------------------------------------------------------

    def _set_state(self, state: SessionState, detail: str = "", error: FedguiError | None = None) -> None:
        with self._state_lock:
            self._state = state
        self.bus.emit(StateChanged(state=state, detail=detail or describe(state), error=error))

    def _say(self, text: str, level: str = "info", details: str = "") -> None:
        self.bus.emit(client_line(text, level, details))

    def _check_stop(self) -> None:
        """Between steps: carry out the requests that came meanwhile; unwind on a stop."""
        while (item := self._inbox.get(0)) is not None:
            self._carry_out(item)
        if self._inbox.stop_requested:
            raise SessionStopped

    def _carry_out(self, item: object) -> None:
        """One request from the inbox, on the session thread. Reports from a combiner link that
        arrive outside :meth:`_serve` are stale (their link is closed) and dropped."""
        if isinstance(item, Pause):
            self._pause_requested = True
        elif isinstance(item, Resume):
            self._pause_requested = False
        elif isinstance(item, NewToken):
            self._token_override = item.token
        elif isinstance(item, Retry):
            self._retry_now = True
        elif isinstance(item, Approve):
            pending = self._pending_review
            if pending is not None and pending.checksum == item.checksum:
                self._answer = item
                self._approval_answer = True
            else:
                self._remember_approval(item.checksum)
                self._approvals.grant(item.checksum, item.permissions, item.run_unisolated)
        elif isinstance(item, Reject) and self._pending_review is not None:
            self._approval_answer = False

    def _remember_approval(self, checksum: str) -> None:
        """An approval of a package that is not under review now (reviewed from the history)."""
        try:
            self._approvals.remember(checksum)
        except (FedguiError, OSError) as exc:  # the session goes on; the person may approve again
            log.warning("approval not saved: %s", exc)
            self._say(f"Your approval of package {checksum[:12]}… could not be saved: {exc}", "warning")

    def _wait_until(self, condition: Callable[[], bool], timeout: float | None) -> bool:
        """Carry out requests until ``condition()`` holds or a stop is requested (True), or
        ``timeout`` seconds pass (False; None: no limit)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not (self._inbox.stop_requested or condition()):
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            item = self._inbox.get(remaining)
            if item is not None:
                self._carry_out(item)
        return True

    def _token(self) -> str | None:
        return self._token_override or self._token_source()

    # ---- the main loop ---------------------------------------------------------------------

    def _run(self) -> None:
        backoff = self.timing.backoff
        try:
            while not self._inbox.stop_requested:
                if self._pause_requested:
                    self._set_state(SessionState.PAUSED)
                    self._wait_until(lambda: not self._pause_requested, None)
                    continue
                self._retry_now = False
                try:
                    connected_for = self._connect_and_serve()
                except SessionStopped:
                    break
                except Exception as exc:  # every failure is classified below
                    if self._inbox.stop_requested:
                        break
                    # A connection that worked for a while then broke starts its retries small.
                    reset_after_healthy(backoff, self._stream_lasted(), self.timing.healthy_after)
                    self._handle_failure(exc, backoff)
                    continue
                if connected_for >= self.timing.healthy_after:
                    backoff.reset()
                if self._package_changed:  # reconnect at once: the new package needs review
                    self._package_changed = False
                    continue
                if not self._pause_requested and not self._inbox.stop_requested:
                    # The combiner ended the stream cleanly (or it broke): re-subscribe, where the
                    # stock client would exit. Go through the controller again: the combiner may
                    # be gone and the package may have changed.
                    self._wait_before_reconnect(backoff, "the combiner closed the connection")
        except Exception as exc:  # a bug: say it plainly, keep the traceback in the log
            log.exception("session thread failed")
            self.last_error = FedguiError(
                f"fedgui hit an internal error: {type(exc).__name__}.",
                "Stop and start again; if it happens again, send the log file to your project admin.",
            )
            self._set_state(SessionState.ERROR, error=self.last_error)
        finally:
            self._close_link()
            self._profile_lock.release()
            self._set_state(SessionState.STOPPED)

    def _handle_failure(self, exc: Exception, backoff: Backoff) -> None:
        disposition, error = classify(exc, self._token())
        self.last_error = error
        log.info("session failure (%s): %s", disposition.value, error)
        if disposition is Disposition.RETRY:
            self._wait_before_reconnect(backoff, str(error), self._return_watch(error), error.details)
        elif disposition in (Disposition.TOKEN_REJECTED, Disposition.TOKEN_EXPIRED):
            state = (
                SessionState.TOKEN_EXPIRED
                if disposition is Disposition.TOKEN_EXPIRED
                else SessionState.TOKEN_REJECTED
            )
            self._wait_for_new_token(state, error)
            backoff.reset()
        else:  # needs the person: wait until they retry or stop; try again by itself after a
            # while (an unattended server must not stay down for a problem that went away),
            # except after a rejection, which only the person can take back.
            self._say(str(error), "error")
            self._set_state(SessionState.ERROR, error.message, error)
            rejected = isinstance(error, PackageRejected)
            self._wait_until(
                lambda: self._retry_now or self._pause_requested,
                None if rejected else self.timing.error_retry_interval,
            )
            backoff.reset()

    def _wait_before_reconnect(
        self, backoff: Backoff, reason: str, watch: ReturnWatch | None = None, details: str = ""
    ) -> None:
        delay = backoff.next_delay()
        self._say(f"{reason} — reconnecting in {delay:.0f} s", "warning", details)
        self._set_state(SessionState.RECONNECTING, f"reconnecting in {delay:.0f} s")
        deadline = time.monotonic() + delay
        while (remaining := deadline - time.monotonic()) > 0:
            step = remaining if watch is None else min(remaining, self.timing.return_probe_interval)
            if self._wait_until(lambda: self._retry_now or self._pause_requested, step):
                return
            if watch is not None and watch.is_back():
                self._say("The server is reachable again; connecting now.")
                return

    def _return_watch(self, error: Exception) -> ReturnWatch | None:
        """What to watch for the end of an outage: the controller's or the combiner's port."""
        if isinstance(error, ControllerUnreachable):
            url = urllib.parse.urlsplit(self.profile.controller_url)
            if url.hostname:
                return ReturnWatch(url.hostname, url.port or (443 if url.scheme == "https" else 80))
        if isinstance(error, CombinerUnreachable) and self._combiner_address is not None:
            return ReturnWatch(*self._combiner_address)
        return None

    def _stream_lasted(self) -> float | None:
        """How long the last task stream has been open, None if none opened in this attempt."""
        opened = self._stream_opened_at
        return None if opened is None else time.monotonic() - opened

    def _wait_for_new_token(self, state: SessionState, error: FedguiError) -> None:
        rejected = self._token()
        self._say(str(error), "error")
        self._set_state(state, error.message, error)

        def token_changed() -> bool:
            current = self._token()
            return bool(current and current != rejected)

        # The keyring is read again every few seconds: the token may have been saved elsewhere.
        while not self._wait_until(
            lambda: self._retry_now or self._pause_requested or token_changed(),
            self.timing.token_poll_interval,
        ):
            pass
        if token_changed():
            self._say("A new access token was provided; connecting again.")

    # ---- one connection ----------------------------------------------------------------------

    def _connect_and_serve(self) -> float:
        """Assign, prepare the package, connect to the combiner and work until the stream ends.
        Returns how long the combiner connection lasted (seconds)."""
        self._claim_profile()
        self._stream_opened_at = None
        token = self._token()
        require_secure_controller(self.profile.controller_url, self.profile.require_tls)
        self._set_state(SessionState.CONNECTING_CONTROLLER, f"connecting to {self.profile.controller_url}")
        controller = self._connect_controller(self.profile, token)
        try:
            return self._prepare_and_serve(controller, token)
        finally:
            controller.close()

    def _prepare_and_serve(self, controller: Any, token: str | None) -> float:
        self.assignment = self._assign(controller)
        self._check_stop()
        self._set_state(SessionState.ASSIGNED, f"assigned to combiner {self.assignment.host}")

        prepared = self._pipeline.run(
            lambda: self._fetcher.fetch(controller),
            self._ask_for_approval,
            RunSettings.from_profile(self.profile),
            self._agree_unisolated,
        )
        self._check_stop()
        package, runner = prepared.package, prepared.runner
        self.package = package
        if self._started_package != package.checksum and "startup" in package.manifest.entry_points:
            self._set_state(SessionState.STARTING_PACKAGE)
            runner.startup()
        self._started_package = package.checksum
        self._check_stop()

        endpoint = CombinerEndpoint.from_assignment(
            self.assignment, ca_bundle=self.profile.ca_bundle, force_tls=None
        )
        self._combiner_address = (endpoint.host, endpoint.port)
        notice = token_exposure_notice(
            self.profile.controller_url, endpoint.use_tls, token, self.profile.require_tls
        )
        if notice and not self._said_token_unencrypted:  # once per session, not per reconnect
            self._said_token_unencrypted = True
            self._say(notice, "warning")
        self.bus.emit(
            Assigned(
                NetworkDetails(
                    combiner=self.assignment.fqdn or self.assignment.host,
                    address=f"{endpoint.host}:{endpoint.port}",
                    encrypted=endpoint.use_tls,
                )
            )
        )
        if self._pause_requested:  # asked while preparing: do not connect only to leave again
            return 0.0
        self._set_state(SessionState.CONNECTING_COMBINER, f"connecting to {endpoint.host}:{endpoint.port}")
        connection = self._connect_combiner(endpoint, token, self.profile)
        link = self._link = CombinerLink(connection, self.timing, self.bus)
        executor = TaskExecutor(
            TaskContext(
                profile=self.profile,
                connection=connection,
                runner=runner,
                package=package,
                history=self.history,
                models=self._models,
                bus=self.bus,
                work_dir=self._work_dir,
                timeout=self.timing.task_timeout,
                on_working=lambda detail: self._inbox.put(TaskWorking(link, detail)),
                rounds=self._rounds,
                round_timeouts=self._round_timeouts,
                helper_type=self.assignment.helper_type,
                first_look=self._first_look,
            )
        )
        detector = PackageChangeDetector(
            controller.published_package,
            controller.package_checksum,
            package.checksum,
            self._fetcher.published,
        )
        watcher = PackageWatcher(
            detector, self.timing.package_check_interval, lambda: self._inbox.put(PackageChanged())
        )
        watcher.start()
        try:
            return self._serve(link, executor, f"{endpoint.host}:{endpoint.port}")
        finally:
            watcher.stop()
            executor.close()
            self._close_link()

    def _serve(self, link: CombinerLink, executor: TaskExecutor, where: str) -> float:
        """Take tasks from the combiner one at a time, in arrival order, until the stream ends or
        the person pauses or stops (after the running task) or the package changed. Tasks run on
        a thread of their own; this thread keeps carrying out requests meanwhile. Returns how
        long the stream was open; a broken stream raises its error for the session to classify."""
        link.open(self._inbox.put)
        opened = self._stream_opened_at = time.monotonic()
        self._set_state(SessionState.READY, f"waiting for work from {where}")
        waiting: collections.deque[Any] = collections.deque()
        running: threading.Thread | None = None
        ended: StreamEnded | None = None
        while True:
            if running is None:
                if ended is not None:
                    break
                if self._leaving():
                    link.close_stream()
                    break
                if waiting:
                    running = self._start_task(link, executor, waiting.popleft())
                    continue
            item = self._inbox.get(None)
            if isinstance(item, LINK_REPORTS) and item.source is not link:
                continue  # from a link closed earlier
            if isinstance(item, TaskArrived):
                waiting.append(item.request)
            elif isinstance(item, TaskWorking):
                if self._pause_requested:
                    self._set_state(SessionState.PAUSING, "finishing the current task")
                else:
                    self._set_state(SessionState.WORKING, item.detail)
            elif isinstance(item, TaskDone):
                running = None
                if item.error is not None:
                    raise item.error
                if not waiting and not self._leaving():
                    self._set_state(SessionState.READY)
            elif isinstance(item, StreamEnded):
                ended = item
            elif isinstance(item, Stop):
                executor.cancel()
            elif isinstance(item, PackageChanged):
                self._say(
                    "The network published a new compute package. fedgui finishes the current task "
                    "and takes no new ones; then the new package is checked and, if you have not "
                    "approved it yet, shown to you for review. Nothing of it runs before you approve it."
                )
                self._package_changed = True
            else:
                self._carry_out(item)
                if isinstance(item, Pause) and running is not None:
                    self._set_state(SessionState.PAUSING, "finishing the current task")
        error = link.ending_error(ended) if ended is not None else None
        if error is not None and not self._leaving():
            raise error
        return time.monotonic() - opened

    def _claim_profile(self) -> None:
        """Hold the profile's lock from the first connection until the session ends; raises
        ProfileInUse (the person decides: the session waits in the error state)."""
        if self._profile_lock.held:
            return
        self._profile_lock.acquire()
        dead = self._profile_lock.took_over_from
        if dead is not None:
            log.info("took over the profile lock of %s, which ended without releasing it", dead.describe())

    def _leaving(self) -> bool:
        return self._inbox.stop_requested or self._pause_requested or self._package_changed

    def _start_task(self, link: CombinerLink, executor: TaskExecutor, request: Any) -> threading.Thread:
        def run() -> None:
            error: BaseException | None = None
            try:
                executor.execute(request)  # records and reports its own failures
            except BaseException as exc:  # a bug: hand it to the session thread
                error = exc
            self._inbox.put(TaskDone(link, error))

        thread = threading.Thread(target=run, name="session-task", daemon=True)
        thread.start()
        return thread

    def _close_link(self) -> None:
        link, self._link = self._link, None
        if link:
            link.close()

    # ---- steps -------------------------------------------------------------------------------

    def _assign(self, controller: Any) -> Any:
        said: list[str] = []

        def waiting(message: str) -> None:
            # The controller is asked every few seconds: say it once, again only if it changes.
            if said[-1:] != [message]:
                said.append(message)
                self._set_state(SessionState.WAITING_FOR_PACKAGE)

        assignment = controller.assign(
            self.profile.client_id,
            self.profile.client_name,
            preferred_combiner=self.profile.preferred_combiner or "",
            cancel=lambda: self._inbox.stop_requested,
            on_waiting=waiting,
        )
        self._check_stop()
        return assignment

    def _prepare_step(self, step: PrepareStep) -> None:
        self._check_stop()
        if step is PrepareStep.PACKAGE:
            self._set_state(SessionState.PREPARING_PACKAGE)
        elif step is PrepareStep.ENVIRONMENT:
            self._set_state(SessionState.BUILDING_ENVIRONMENT)

    def _ask_for_approval(self, package: PreparedPackage) -> bool:
        """The package is not approved yet: approve it (``--approve``) or ask the person and wait
        for their answer. The pipeline remembers an approval (saved here, on the session thread)."""
        if self._auto_approve:
            self._say(f"Package {package.checksum[:12]}… approved from the command line.")
            return True
        answer = self._ask_person(package, PackageNotApproved(package.checksum))
        self._approvals.grant(package.checksum, answer.permissions, answer.run_unisolated)
        return True

    def _agree_unisolated(self, package: PreparedPackage, support: IsolationSupport) -> bool:
        """This computer cannot isolate the package: it runs only once the person agreed (on the
        command line, or in the review), and the agreement is remembered in the profile."""
        if self._allow_unisolated:
            self._approvals.grant(package.checksum, None, run_unisolated=True)
            return True
        answer = self._ask_person(package, IsolationUnavailable(support))
        if not answer.run_unisolated:
            raise IsolationUnavailable(support)
        self._approvals.grant(package.checksum, answer.permissions, run_unisolated=True)
        return True

    def _ask_person(self, package: PreparedPackage, reason: FedguiError) -> Approve:
        """Show ``package`` for review (``reason`` says why) and wait for the person's answer;
        raises PackageRejected on a rejection."""
        not_approved = reason
        self._pending_review = package
        self._approval_answer = None
        self._answer = None
        try:
            self._say(str(not_approved), "warning")
            previous_checksum = self.profile.last_approved_checksum
            if previous_checksum == package.checksum:  # approved, asked again for the isolation
                previous_checksum = None
            previous = self._packages.get(previous_checksum) if previous_checksum else None
            self.bus.emit(ReviewNeeded(package, previous, previous_checksum))
            self._set_state(
                SessionState.REVIEW_NEEDED, "a compute package waits for your review", not_approved
            )
            self._wait_until(lambda: self._approval_answer is not None, None)
            self._check_stop()
            if not self._approval_answer:
                raise PackageRejected(
                    f"You rejected the compute package {package.checksum[:12]}…; nothing from it ran."
                )
            return self._answer or Approve(package.checksum)
        finally:
            self._pending_review = None


__all__ = ["PackageRejected", "Session", "SessionTiming"]
