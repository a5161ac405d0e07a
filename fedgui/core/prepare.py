"""The one way from a compute package to something that can run it:
package → approval gate → isolation → Python environment → entry point runner (in its sandbox).

A session (the network's package, downloaded) and a preview (a package on this computer) both go
through :class:`PreparePipeline`, so the same rule holds for both: nothing of a package runs, not
even the environment build that installs its requirements, before it is approved. They differ
only in where the package comes from, where approvals are remembered, and how they ask.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fedgui.core.events import EventSink, client_line, ignore_event
from fedgui.core.execution.environment import EnvironmentBuilder, PythonEnvironment, resolve_base_python_info
from fedgui.core.execution.resource_limits import entry_point_variables
from fedgui.core.execution.runner import EntryPointRunner
from fedgui.core.execution.sandbox import (
    IsolationSupport,
    IsolationUnavailable,
    describe,
    detect_isolation,
    make_sandbox,
)
from fedgui.core.package.approval import Approvals, Decide, gate
from fedgui.core.package.cache import PreparedPackage
from fedgui.core.package.permissions import NO_EXTRA_PERMISSIONS, PackagePermissions
from fedgui.core.profile import Profile, ProfileStore


class PrepareStep(enum.Enum):
    PACKAGE = "package"  # fetch, verify and unpack
    GATE = "gate"  # approved already, or ask
    ENVIRONMENT = "environment"  # build (only when not built before)


@dataclass(frozen=True)
class RunSettings:
    """How entry points run on this computer."""

    data_folder: Path | None
    base_python: str | Path | None = None
    #: every variable the entry points get besides fedgui's own (resource limits included)
    extra_env: Mapping[str, str] = field(default_factory=dict)
    #: the GPU choice ("auto", "none", or an index): which device nodes the sandbox passes through
    gpu: str = "auto"
    #: what a version (by checksum) may do beyond the isolation; read after the approval, which
    #: may have just granted it
    permissions: Callable[[str], PackagePermissions] = lambda checksum: NO_EXTRA_PERMISSIONS
    #: whether the person agreed to run packages unisolated where this computer cannot isolate them
    unisolated_agreed: Callable[[], bool] = lambda: False

    @classmethod
    def from_profile(cls, profile: Profile) -> RunSettings:
        variables = entry_point_variables(profile.extra_env or {}, profile.cpu_thread_limit, profile.gpu)
        return cls(
            profile.data_folder,
            profile.base_python,
            variables,
            profile.gpu,
            profile.permissions_for,
            lambda: profile.run_unisolated_agreed,
        )


#: Asked when this computer cannot isolate an approved package and the person has not agreed to
#: run packages unisolated: True runs it anyway (the asker remembers the agreement), False stops.
AgreeUnisolated = Callable[[PreparedPackage, IsolationSupport], bool]


@dataclass(frozen=True)
class Prepared:
    package: PreparedPackage
    environment: PythonEnvironment
    runner: EntryPointRunner
    newly_approved: bool
    #: what the package may reach, in one plain sentence (the review and the overview show it)
    isolation: str = ""


class PreparePipeline:
    """Prepare packages with one approval list and one environment builder.

    ``on_step`` is told before each step; it may raise to stop there (a stop or cancel request).
    :meth:`cancel` stops the environment build or entry point in progress, from any thread.
    """

    def __init__(
        self,
        approvals: Approvals,
        *,
        environments: EnvironmentBuilder | None = None,
        sink: EventSink | None = None,
        on_step: Callable[[PrepareStep], None] | None = None,
        isolation: IsolationSupport | None = None,
    ) -> None:
        self.approvals = approvals
        self._isolation = isolation
        self._environments = environments or EnvironmentBuilder()
        self._sink = sink or ignore_event
        self._on_step = on_step or (lambda step: None)
        self._lock = threading.Lock()
        self._runner: EntryPointRunner | None = None
        # The last environment, so a reconnect with the same package does not probe Python again.
        self._environment: tuple[tuple[str, str], PythonEnvironment] | None = None

    @property
    def isolation(self) -> IsolationSupport:
        """How this computer isolates entry points (found out once: it starts a process)."""
        if self._isolation is None:
            self._isolation = detect_isolation()
        return self._isolation

    def run(
        self,
        fetch: Callable[[], PreparedPackage],
        decide: Decide,
        settings: RunSettings,
        agree_unisolated: AgreeUnisolated | None = None,
    ) -> Prepared:
        """``fetch`` gives the verified, unpacked package; ``decide`` is asked when it is not
        approved; ``agree_unisolated`` when it cannot be isolated here and the person has not
        agreed to that (None: raise IsolationUnavailable). Nothing, not even the environment
        build, happens before both answers."""
        self._on_step(PrepareStep.PACKAGE)
        package = fetch()
        self._on_step(PrepareStep.GATE)
        newly_approved = gate(package, self.approvals, decide)
        support = self.isolation
        agreed = support.available or settings.unisolated_agreed()
        if not agreed and (agree_unisolated is None or not agree_unisolated(package, support)):
            raise IsolationUnavailable(support)
        environment = self._ensure_environment(package, settings)
        data_folder = Path(settings.data_folder).resolve() if settings.data_folder is not None else None
        permissions = settings.permissions(package.checksum)
        sandbox = make_sandbox(
            environment,
            package.root,
            data_folder,
            permissions,
            settings.gpu,
            own_variables=settings.extra_env,
            support=support,
        )
        summary = describe(support, permissions, data_folder is not None)
        self._sink(client_line(summary, "info" if sandbox is not None else "warning"))
        runner = EntryPointRunner(
            package.root,
            package.manifest.entry_points,
            environment,
            data_folder=data_folder,
            extra_env=settings.extra_env,
            sink=self._sink,
            sandbox=sandbox,
        )
        with self._lock:
            self._runner = runner
        return Prepared(package, environment, runner, newly_approved, summary)

    def cancel(self) -> None:
        """Stop the environment build or the entry point that runs now; returns at once."""
        self._environments.cancel()
        with self._lock:
            runner = self._runner
        if runner is not None:
            runner.cancel()

    def _ensure_environment(self, package: PreparedPackage, settings: RunSettings) -> PythonEnvironment:
        key = (package.checksum, str(settings.base_python or ""))
        if self._environment and self._environment[0] == key:
            return self._environment[1]
        self._on_step(PrepareStep.ENVIRONMENT)
        base = resolve_base_python_info(settings.base_python)
        environment = self._environments.ensure(
            package.manifest.python_env, base, on_line=self._sink, on_progress=self._sink
        )
        self._environment = (key, environment)
        return environment


class ProfileApprovals:
    """A profile's approvals. With a store, each approval is also saved to the profile's file, and
    only that field is changed there (the settings dialog may have saved other fields meanwhile);
    ``on_saved`` gets the profile as saved."""

    def __init__(
        self,
        profile: Profile,
        store: ProfileStore | None = None,
        on_saved: Callable[[Profile], None] | None = None,
    ) -> None:
        self.profile = profile
        self._store = store
        self._on_saved = on_saved or (lambda saved: None)

    def checksums(self) -> list[str]:
        return list(self.profile.approved_checksums)

    def remember(self, checksum: str) -> None:
        self.profile.approve(checksum)
        if self._store is not None:
            self._on_saved(self._store.update(self.profile.id, lambda p: p.approve(checksum)))

    def grant(
        self, checksum: str, permissions: PackagePermissions | None = None, run_unisolated: bool = False
    ) -> None:
        """What the person allowed this version beyond the isolation (None: leave as it is), and
        their agreement to run packages unisolated on this computer; saved like an approval."""

        def change(profile: Profile) -> None:
            if permissions is not None:
                profile.set_permissions(checksum, permissions)
            if run_unisolated:
                profile.run_unisolated_agreed = True

        if permissions is None and not run_unisolated:
            return
        change(self.profile)
        if self._store is not None:
            self._on_saved(self._store.update(self.profile.id, change))


__all__ = ["AgreeUnisolated", "PreparePipeline", "PrepareStep", "Prepared", "ProfileApprovals", "RunSettings"]
