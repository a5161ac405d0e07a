"""The participation session: the client's state machine.

idle → connecting (controller) → assigned → preparing package (gate, approval, environment,
``startup``) → connecting (combiner) → ready ⇄ working → … with reconnecting, paused, stopped
and the states that wait for the person (review needed, token rejected/expired, error).

One thread (``session-main``) walks through these states; heartbeats and telemetry run on
their own threads while connected. The GUI and the headless console only observe the events
on :attr:`Session.bus` and call :meth:`start`, :meth:`pause`, :meth:`resume`, :meth:`stop`,
:meth:`approve_package`, :meth:`update_token`.

Pause finishes the running task and then disconnects cleanly from the combiner (stream closed,
heartbeats stopped): a paused client that still heartbeats would be handed tasks it will not do,
and the network's round would wait for it until its timeout.
"""

from __future__ import annotations

import copy
import logging
import threading
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
from fedgui.core.execution.sandbox import (
    IsolationSupport,
    IsolationUnavailable,
    detect_isolation,
    make_sandbox,
)
from fedgui.core.execution.sandbox import (
    describe as describe_isolation,
)
from fedgui.core.history.store import HistoryStore
from fedgui.core.package.approval import require_approval
from fedgui.core.package.cache import PackageCache, PreparedPackage
from fedgui.core.package.permissions import PackagePermissions
from fedgui.core.profile import Profile, ProfileStore
from fedgui.core.protocol.channel import CombinerConnection, CombinerEndpoint
from fedgui.core.session.backoff import Backoff
from fedgui.core.session.connection import CombinerLink
from fedgui.core.session.control import SessionControl
from fedgui.core.session.failures import Disposition, classify
from fedgui.core.session.model_cache import ModelCache
from fedgui.core.session.package_watch import PackageWatcher
from fedgui.core.session.states import SessionState, describe
from fedgui.core.session.tasks import TaskContext, TaskExecutor, progress_emitter

log = logging.getLogger(__name__)

TokenSource = Callable[[], "str | None"]


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
        allow_unisolated: bool = False,
        isolation: IsolationSupport | None = None,
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
        self._allow_unisolated = allow_unisolated
        self._isolation = isolation
        self._answer_permissions: PackagePermissions | None = None
        self._answer_unisolated = False
        self._work_dir = Path(work_dir or paths.cache_dir() / "work" / profile.id)
        self._models = ModelCache(self._work_dir / "models")
        self.control = SessionControl()
        self._state = SessionState.IDLE
        self._state_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._link: CombinerLink | None = None
        self._executor: TaskExecutor | None = None
        self._runner: EntryPointRunner | None = None
        self._pending_review: PreparedPackage | None = None
        self._approval_answer: bool | None = None
        self._started_package: str | None = None  # checksum whose `startup` already ran
        self._package_changed = False
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
        if self._thread and self._thread.is_alive():
            return
        self.control = SessionControl()
        self._thread = threading.Thread(target=self._run, name="session-main", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        self.control.request_pause()
        if self._state is SessionState.WORKING:
            self._set_state(SessionState.PAUSING, "finishing the current task")
        elif self._link:
            self._link.close_stream()

    def resume(self) -> None:
        self.control.request_resume()

    def request_stop(self) -> None:
        """Ask the session to stop; returns at once. The session cancels the running entry point
        (its whole process tree) or environment build, disconnects, and emits STOPPED."""
        self.control.request_stop()
        self._environments.cancel()
        if self._runner:
            self._runner.cancel()  # `startup`, before there is a task executor
        if self._executor:
            self._executor.cancel()
        if self._link:
            self._link.close_stream()

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

    def approve_package(
        self,
        checksum: str,
        permissions: PackagePermissions | None = None,
        run_unisolated: bool = False,
    ) -> None:
        """The person approved the package under review (or one they reviewed earlier), with what
        they allowed it beyond the isolation and whether they agreed to run it unisolated where
        this computer cannot isolate it. Returns at once: the approval is saved on the session's
        thread, never on the caller's (the UI)."""
        if self._pending_review and self._pending_review.checksum == checksum:
            self._answer_permissions = permissions
            self._answer_unisolated = run_unisolated
            self._approval_answer = True
            self.control.poke()
        else:
            threading.Thread(
                target=self._remember_approval, args=(checksum, permissions, run_unisolated), daemon=True
            ).start()

    @property
    def isolation(self) -> IsolationSupport:
        """How this computer isolates the package's steps (looked up once per session)."""
        if self._isolation is None:
            self._isolation = detect_isolation()
        return self._isolation

    def reject_package(self) -> None:
        self._approval_answer = False
        self.control.poke()

    def update_token(self, token: str) -> None:
        """A new token from the person; a session waiting in a token state tries again at once."""
        self._token_override = token
        self.control.poke()

    def retry(self) -> None:
        """Leave an error state and try again now."""
        self.control.poke()

    # ---- state and events ------------------------------------------------------------------

    def _set_state(self, state: SessionState, detail: str = "", error: Exception | None = None) -> None:
        with self._state_lock:
            self._state = state
        self.bus.emit(StateChanged(state=state, detail=detail or describe(state), error=error))

    def _say(self, text: str, level: str = "info") -> None:
        self.bus.emit(client_line(text, level))

    def _check_stop(self) -> None:
        if self.control.stop_requested:
            raise SessionStopped

    def _token(self) -> str | None:
        return self._token_override or self._token_source()

    # ---- the main loop ---------------------------------------------------------------------

    def _run(self) -> None:
        backoff = self.timing.backoff
        try:
            while not self.control.stop_requested:
                if self.control.pause_requested:
                    self._set_state(SessionState.PAUSED)
                    self.control.wait(None)
                    continue
                try:
                    connected_for = self._connect_and_serve()
                except SessionStopped:
                    break
                except Exception as exc:  # every failure is classified below
                    if self.control.stop_requested:
                        break
                    self._handle_failure(exc, backoff)
                    continue
                if connected_for >= self.timing.healthy_after:
                    backoff.reset()
                if self._package_changed:  # reconnect at once: the new package needs review
                    self._package_changed = False
                    continue
                if not self.control.pause_requested and not self.control.stop_requested:
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
            self.control.wait(None if rejected else self.timing.error_retry_interval)
            backoff.reset()

    def _wait_before_reconnect(self, backoff: Backoff, reason: str) -> None:
        delay = backoff.next_delay()
        self._say(f"{reason} — reconnecting in {delay:.0f} s", "warning")
        self._set_state(SessionState.RECONNECTING, f"reconnecting in {delay:.0f} s")
        self.control.wait(delay)

    def _wait_for_new_token(self, state: SessionState, error: FedguiError) -> None:
        rejected = self._token()
        self._say(str(error), "error")
        self._set_state(state, error.message, error)
        while not self.control.stop_requested:
            self.control.wait(self.timing.token_poll_interval)
            current = self._token()
            if current and current != rejected:
                self._say("A new access token was provided; connecting again.")
                return

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
        self._set_state(SessionState.CONNECTING_COMBINER, f"connecting to {endpoint.host}:{endpoint.port}")
        connection = CombinerConnection(endpoint, token, self.profile.client_id, self.profile.client_name)
        self._link = CombinerLink(connection, self.timing, self.bus, self.control)
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
                on_working=lambda detail: self._set_state(SessionState.WORKING, detail),
                rounds=self._rounds,
            )
        )
        self._executor = executor
        watcher = PackageWatcher(
            controller.package_checksum,
            package.checksum,
            self.timing.package_check_interval,
            on_change=self._on_package_changed,
        )
        watcher.start()
        try:
            return self._link.serve(
                on_ready=lambda: self._set_state(
                    SessionState.READY, f"waiting for work from {endpoint.host}:{endpoint.port}"
                ),
                on_task=self._on_task,
            )
        finally:
            watcher.stop()
            self._close_link()
            controller.close()

    def _on_package_changed(self, checksum: str) -> None:
        self._say(
            f"The network published a new compute package ({checksum[:12]}…). fedgui finishes the "
            "current task, then shows it to you for review; nothing of it runs before you approve it."
        )
        self._package_changed = True
        link = self._link
        if link is None:
            return
        if self._state is not SessionState.WORKING:  # while working, _on_task ends the stream
            link.close_stream()

    def _on_task(self, request) -> bool:
        """Run one task; return False to stop reading the stream (pause, stop, new package)."""
        assert self._executor is not None
        self._executor.execute(request)
        if self.control.stop_requested or self.control.pause_requested or self._package_changed:
            return False
        self._set_state(SessionState.READY)
        return True

    def _close_link(self) -> None:
        link, self._link = self._link, None
        self._executor = None
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
            cancel=lambda: self.control.stop_requested,
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
        # Where nothing can be isolated, even an approved package waits until the person agreed
        # to run it with their rights (asked in the review, remembered in the profile).
        unisolated_ok = self.isolation.available or self.profile.run_unisolated_agreed
        if not unisolated_ok and self._allow_unisolated:  # agreed on the command line
            unisolated_ok = True
            if package.checksum in approved:
                self._remember_approval(package.checksum, None, run_unisolated=True)
        if self._auto_approve and package.checksum not in approved and unisolated_ok:
            self._remember_approval(package.checksum, None, self._allow_unisolated)
            self._say(f"Package {package.checksum[:12]}… approved from the command line.")
            return
        try:
            require_approval(package.checksum, approved)
            if not unisolated_ok:
                raise IsolationUnavailable(
                    self.isolation, "Review the package and decide whether it may run."
                )
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
            while self._approval_answer is None:
                self._check_stop()
                self.control.wait(None)
            if not self._approval_answer:
                raise PackageRejected(
                    f"You rejected the compute package {package.checksum[:12]}…; nothing from it ran."
                )
            if not unisolated_ok and not self._answer_unisolated:
                raise IsolationUnavailable(self.isolation)
            # here, on the session thread: disk I/O
            self._remember_approval(package.checksum, self._answer_permissions, self._answer_unisolated)
        finally:
            self._pending_review = None

    def _remember_approval(
        self, checksum: str, permissions: PackagePermissions | None = None, run_unisolated: bool = False
    ) -> None:
        """The one place an approval is saved: in this session's copy of the profile and, with a
        store, in the saved profile, changing nothing else there (the settings dialog may have
        saved other fields meanwhile). ``permissions`` (None: keep) belong to this version only."""

        def change(profile: Profile) -> None:
            profile.approve(checksum, permissions)
            if run_unisolated:
                profile.run_unisolated_agreed = True

        change(self.profile)
        if self._profile_store is not None:
            saved = self._profile_store.update(self.profile.id, change)
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
        extra_env = entry_point_variables(
            self.profile.extra_env or {}, self.profile.cpu_thread_limit, self.profile.gpu
        )
        permissions = self.profile.permissions_for(package.checksum)
        data_folder = self.profile.data_folder.resolve() if self.profile.data_folder else None
        sandbox = make_sandbox(
            environment,
            package.root,
            data_folder,
            permissions,
            self.profile.gpu,
            own_variables=extra_env,
            support=self.isolation,
        )
        self._say(
            describe_isolation(self.isolation, permissions, data_folder is not None),
            "info" if sandbox else "warning",
        )
        return EntryPointRunner(
            package.root,
            package.manifest.entry_points,
            environment,
            data_folder=data_folder,
            extra_env=extra_env,
            sink=self.bus.emit,
            sandbox=sandbox,
        )


__all__ = ["PackageRejected", "Session", "SessionTiming"]
