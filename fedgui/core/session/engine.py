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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fedgui.core import paths
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
from fedgui.core.execution.environment import EnvironmentBuilder, PythonEnvironment, resolve_base_python
from fedgui.core.execution.resource_limits import entry_point_variables
from fedgui.core.execution.runner import EntryPointRunner
from fedgui.core.history.store import HistoryStore
from fedgui.core.package.approval import require_approval
from fedgui.core.package.cache import PackageCache, PreparedPackage
from fedgui.core.profile import Profile, ProfileStore
from fedgui.core.protocol.channel import CombinerConnection, CombinerEndpoint
from fedgui.core.session.backoff import Backoff
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
from fedgui.core.session.package_watch import PackageWatcher
from fedgui.core.session.states import SessionState, describe
from fedgui.core.session.tasks import TaskContext, TaskExecutor, progress_emitter

log = logging.getLogger(__name__)

TokenSource = Callable[[], "str | None"]
LINK_REPORTS = (TaskArrived, TaskWorking, TaskDone, StreamEnded)


class SessionStopped(Exception):
    """Raised inside the session thread to unwind when the person stops the session."""


class PackagePinMismatch(FedguiError):
    default_next_step = "Ask your project admin which package is current."


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
    package_check_interval: float = 300.0  # how often to ask whether the network's package changed
    error_retry_interval: float = 300.0  # an error state tries again by itself after this long
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
        timing: SessionTiming | None = None,
        work_dir: Path | None = None,
    ) -> None:
        self.profile = copy.deepcopy(profile)  # its own copy: views and dialogs keep theirs
        self.bus = bus or EventBus()
        self.history = history or HistoryStore()
        self.timing = timing or SessionTiming()
        self._token_source = token_source
        self._token_override: str | None = None
        self._profile_store = profile_store
        self._packages = package_cache or PackageCache()
        self._environments = environment_builder or EnvironmentBuilder()
        self._auto_approve = auto_approve
        self._work_dir = Path(work_dir or paths.cache_dir() / "work" / profile.id)
        self._models = ModelCache(self._work_dir / "models")
        self._inbox = SessionInbox()
        self._pause_requested = False  # these three are read and written on the session thread only
        self._retry_now = False
        self._package_changed = False
        self._state = SessionState.IDLE
        self._state_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._link: CombinerLink | None = None
        self._runner: EntryPointRunner | None = None
        self._pending_review: PreparedPackage | None = None
        self._approval_answer: bool | None = None
        self._started_package: str | None = None  # checksum whose `startup` already ran
        self._rounds: dict[str, str] = {}  # session id → latest training round seen
        self._environment: tuple[str, PythonEnvironment] | None = None
        self.assignment = None
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
        self._environments.cancel()
        runner = self._runner
        if runner:
            runner.cancel()

    def stop_and_wait(self, timeout: float = 30.0) -> None:
        """Stop and block until the session thread has ended (at most ``timeout`` seconds).
        The only control that waits: call it from a worker thread or the command line."""
        self.request_stop()
        if self._thread:
            self._thread.join(timeout)
        if self._state is not SessionState.STOPPED:
            self._set_state(SessionState.STOPPED)

    def join(self, timeout: float | None = None) -> None:
        if self._thread:
            self._thread.join(timeout)

    def approve_package(self, checksum: str) -> None:
        """The person approved the package under review (or one they reviewed earlier). Returns
        at once: the session thread saves the approval."""
        self._inbox.put(Approve(checksum))

    def reject_package(self) -> None:
        self._inbox.put(Reject())

    def update_token(self, token: str) -> None:
        """A new token from the person; a session waiting in a token state tries again at once."""
        self._inbox.put(NewToken(token))

    def retry(self) -> None:
        """Leave an error state (or a reconnect wait) and try again now."""
        self._inbox.put(Retry())

    # ---- state and events ------------------------------------------------------------------

    def _set_state(self, state: SessionState, detail: str = "", error: Exception | None = None) -> None:
        with self._state_lock:
            self._state = state
        self.bus.emit(StateChanged(state=state, detail=detail or describe(state), error=error))

    def _say(self, text: str, level: str = "info") -> None:
        self.bus.emit(client_line(text, level))

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
                self._approval_answer = True
            else:
                self._remember_approval(item.checksum)
        elif isinstance(item, Reject) and self._pending_review is not None:
            self._approval_answer = False

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
            self._set_state(SessionState.STOPPED)

    def _handle_failure(self, exc: Exception, backoff: Backoff) -> None:
        disposition, error = classify(exc, self._token())
        self.last_error = error
        log.info("session failure (%s): %s", disposition.value, error)
        if disposition is Disposition.RETRY:
            self._wait_before_reconnect(backoff, str(error))
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

    def _wait_before_reconnect(self, backoff: Backoff, reason: str) -> None:
        delay = backoff.next_delay()
        self._say(f"{reason} — reconnecting in {delay:.0f} s", "warning")
        self._set_state(SessionState.RECONNECTING, f"reconnecting in {delay:.0f} s")
        self._wait_until(lambda: self._retry_now or self._pause_requested, delay)

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
        from fedgui.core.controller.client import ControllerClient  # local: keeps `import session` light

        token = self._token()
        self._set_state(SessionState.CONNECTING_CONTROLLER, f"connecting to {self.profile.controller_url}")
        controller = ControllerClient(
            self.profile.controller_url, token=token, verify=self.profile.tls_verify_argument, timeout=10.0
        )
        self.assignment = self._assign(controller)
        self._check_stop()
        self._set_state(SessionState.ASSIGNED, f"assigned to combiner {self.assignment.host}")

        package = self._prepare_package(controller)
        self._check_stop()
        environment = self._prepare_environment(package)
        self._check_stop()
        runner = self._runner = self._make_runner(package, environment)
        if self._started_package != package.checksum and "startup" in package.manifest.entry_points:
            self._set_state(SessionState.STARTING_PACKAGE)
            runner.startup()
        self._started_package = package.checksum
        self._check_stop()

        endpoint = CombinerEndpoint.from_assignment(
            self.assignment, ca_bundle=self.profile.ca_bundle, force_tls=None
        )
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
        connection = CombinerConnection(endpoint, token, self.profile.client_id, self.profile.client_name)
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
            )
        )
        watcher = PackageWatcher(
            controller.package_checksum,
            package.checksum,
            self.timing.package_check_interval,
            on_change=lambda checksum: self._inbox.put(PackageChanged(checksum)),
        )
        watcher.start()
        try:
            return self._serve(link, executor, f"{endpoint.host}:{endpoint.port}")
        finally:
            watcher.stop()
            self._close_link()
            controller.close()

    def _serve(self, link: CombinerLink, executor: TaskExecutor, where: str) -> float:
        """Take tasks from the combiner one at a time, in arrival order, until the stream ends or
        the person pauses or stops (after the running task) or the package changed. Tasks run on
        a thread of their own; this thread keeps carrying out requests meanwhile. Returns how
        long the stream was open; a broken stream raises its error for the session to classify."""
        link.open(self._inbox.put)
        opened = time.monotonic()
        self._set_state(SessionState.READY, f"waiting for work from {where}")
        waiting: collections.deque = collections.deque()
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
                    f"The network published a new compute package ({item.checksum[:12]}…). fedgui "
                    "finishes the current task, then shows it to you for review; nothing of it runs "
                    "before you approve it."
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

    def _leaving(self) -> bool:
        return self._inbox.stop_requested or self._pause_requested or self._package_changed

    def _start_task(self, link: CombinerLink, executor: TaskExecutor, request) -> threading.Thread:
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

    def _assign(self, controller):
        def waiting(message: str) -> None:
            self._set_state(SessionState.WAITING_FOR_PACKAGE, message)

        assignment = controller.assign(
            self.profile.client_id,
            self.profile.client_name,
            preferred_combiner=self.profile.preferred_combiner or "",
            cancel=lambda: self._inbox.stop_requested,
            on_waiting=waiting,
        )
        self._check_stop()
        return assignment

    def _prepare_package(self, controller) -> PreparedPackage:
        """Checksum → (download) → verify → unpack → approval. A package is downloaded only
        when its checksum is not already unpacked in the cache."""
        self._set_state(SessionState.PREPARING_PACKAGE)
        checksum = controller.package_checksum()
        pin = self.profile.package_checksum_pin
        if pin and checksum and checksum.lower() != pin.lower():
            raise PackagePinMismatch(
                f"The network offers the compute package {checksum[:12]}…, but this connection is "
                f"pinned to {pin[:12]}…; nothing was downloaded or run.",
                "Ask your project admin whether the package changed, then update the pin in the settings.",
            )
        package = self._packages.get(checksum) if checksum else None
        if package is None:
            folder = self._work_dir / "downloads"
            folder.mkdir(parents=True, exist_ok=True)

            archive = controller.download_package(folder, progress=progress_emitter(self.bus, "package"))
            try:
                package = self._packages.prepare(archive, expected_checksum=checksum)
            finally:
                archive.unlink(missing_ok=True)
        if pin and package.checksum.lower() != pin.lower():
            raise PackagePinMismatch(
                f"The downloaded compute package {package.checksum[:12]}… is not the pinned "
                f"{pin[:12]}…; nothing from it ran."
            )
        self._check_stop()
        self._gate(package)
        self.package = package
        return package

    def _gate(self, package: PreparedPackage) -> None:
        approved = set(self.profile.approved_checksums)
        if self._auto_approve and package.checksum not in approved:
            self._remember_approval(package.checksum)
            self._say(f"Package {package.checksum[:12]}… approved from the command line.")
            return
        try:
            require_approval(package.checksum, approved)
            return
        except FedguiError as not_approved:
            self._pending_review = package
            self._approval_answer = None
            self._say(str(not_approved), "warning")
            previous_checksum = self.profile.last_approved_checksum
            previous = self._packages.get(previous_checksum) if previous_checksum else None
            self.bus.emit(ReviewNeeded(package, previous, previous_checksum))
            self._set_state(
                SessionState.REVIEW_NEEDED, "a compute package waits for your review", not_approved
            )
        try:
            self._wait_until(lambda: self._approval_answer is not None, None)
            self._check_stop()
            if not self._approval_answer:
                raise PackageRejected(
                    f"You rejected the compute package {package.checksum[:12]}…; nothing from it ran."
                )
            self._remember_approval(package.checksum)  # here, on the session thread: disk I/O
        finally:
            self._pending_review = None

    def _remember_approval(self, checksum: str) -> None:
        """The one place an approval is saved: in this session's copy of the profile and, with a
        store, in the saved profile, changing nothing else there (the settings dialog may have
        saved other fields meanwhile)."""
        self.profile.approve(checksum)
        if self._profile_store is not None:
            saved = self._profile_store.update(self.profile.id, lambda p: p.approve(checksum))
            self.bus.emit(ProfileSaved(saved))

    def _prepare_environment(self, package: PreparedPackage) -> PythonEnvironment:
        if self._environment and self._environment[0] == package.checksum:
            return self._environment[1]
        self._set_state(SessionState.BUILDING_ENVIRONMENT)
        base = resolve_base_python(self.profile.base_python)
        environment = self._environments.ensure(
            package.manifest.python_env, base, on_line=self.bus.emit, on_progress=self.bus.emit
        )
        self._environment = (package.checksum, environment)
        return environment

    def _make_runner(self, package: PreparedPackage, environment: PythonEnvironment) -> EntryPointRunner:
        return EntryPointRunner(
            package.root,
            package.manifest.entry_points,
            environment,
            data_folder=self.profile.data_folder,
            extra_env=entry_point_variables(
                self.profile.extra_env or {}, self.profile.cpu_thread_limit, self.profile.gpu
            ),
            sink=self.bus.emit,
        )


__all__ = ["PackageRejected", "Session", "SessionTiming"]
