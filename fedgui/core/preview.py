"""Local preview: run a package's ``validate`` (and optionally ``train``) on this computer's data
before joining a network, prepared by the same pipeline as a real session
(:class:`fedgui.core.prepare.PreparePipeline`: package → approval gate → environment → runner).

Nothing is sent anywhere. The GUI's preview page and ``fedgui preview`` both call
:class:`Preview` / :func:`run_preview`; they differ only in who listens to the events.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedgui.core import paths
from fedgui.core.errors import FedguiError
from fedgui.core.events import EventSink, client_line, ignore_event
from fedgui.core.execution.environment import EnvironmentBuilder, PythonEnvironment
from fedgui.core.execution.errors import EntryPointCancelled
from fedgui.core.execution.runner import new_model_temp_path, new_temp_path
from fedgui.core.execution.sandbox import IsolationSupport
from fedgui.core.fileio import atomic_write_text
from fedgui.core.package.approval import ApprovalList, Approvals
from fedgui.core.package.cache import PackageCache, PreparedPackage
from fedgui.core.package.checksum import normalize_checksum
from fedgui.core.package.permissions import NO_EXTRA_PERMISSIONS, PackagePermissions
from fedgui.core.prepare import PreparePipeline, PrepareStep, RunSettings

_APPROVALS_FILE = "preview-approvals.json"


class PreviewError(FedguiError):
    """The preview could not start: a missing model file, data folder or package."""


class ApprovalMismatch(PreviewError):
    """``approve`` named a checksum, and the package has another one."""


@dataclass(frozen=True)
class PreviewResult:
    package: PreparedPackage
    environment: PythonEnvironment
    #: Metrics of ``validate`` on the given model.
    model_metrics: dict[str, Any]
    #: With ``train``: the metadata the train step wrote and the metrics of the trained model.
    train_metadata: dict[str, Any] | None = None
    trained_metrics: dict[str, Any] | None = None
    startup_ran: bool = False
    newly_approved: bool = False


class PreviewApprovals:
    """Checksums approved for previews when no profile is involved (``data_dir()/preview-approvals.json``),
    with what each version was allowed beyond the isolation, and the agreement to run unisolated."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.data_dir() / _APPROVALS_FILE

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, **changes: Any) -> None:
        atomic_write_text(self.path, json.dumps({**self._read(), **changes}, indent=2))

    def checksums(self) -> list[str]:
        approved = self._read().get("approved", [])
        return [item for item in approved if isinstance(item, str)] if isinstance(approved, list) else []

    def remember(self, checksum: str) -> None:
        current = self.checksums()
        if checksum not in current:
            self._write(approved=[*current, checksum])

    def permissions_for(self, checksum: str) -> PackagePermissions:
        stored = self._read().get("permissions", {})
        if not isinstance(stored, dict) or checksum not in stored:
            return NO_EXTRA_PERMISSIONS
        try:
            return PackagePermissions.from_data(stored[checksum])
        except ValueError:
            return NO_EXTRA_PERMISSIONS

    def set_permissions(self, checksum: str, permissions: PackagePermissions) -> None:
        stored = self._read().get("permissions", {})
        stored = {k: v for k, v in (stored if isinstance(stored, dict) else {}).items() if k != checksum}
        if not permissions.is_default:
            stored[checksum] = permissions.to_data()
        self._write(permissions=stored)

    def unisolated_agreed(self) -> bool:
        return self._read().get("unisolated_agreed") is True

    def agree_unisolated(self) -> None:
        self._write(unisolated_agreed=True)


def prepare_package(package: Path, cache: PackageCache | None = None) -> PreparedPackage:
    """A package given as an archive or as a folder holding ``fedn.yaml``."""
    cache = cache or PackageCache()
    package = Path(package)
    if package.is_dir():
        return cache.prepare_folder(package)
    if not package.is_file():
        raise PreviewError(
            f"The package {package} does not exist.",
            "Give the path of the package archive (.tgz) or of the folder that holds fedn.yaml.",
        )
    return cache.prepare(package)


class Preview:
    """One preview run; ``cancel()`` from another thread stops it (the run raises EntryPointCancelled)."""

    def __init__(
        self,
        package: Path,
        model: Path,
        data_folder: Path,
        *,
        train: bool = False,
        approve: bool | str = False,
        approved_checksums: Iterable[str] | None = None,
        base_python: str | Path | None = None,
        extra_env: Mapping[str, str] | None = None,
        run_startup: bool = True,
        timeout: float | None = None,
        sink: EventSink | None = None,
        package_cache: PackageCache | None = None,
        environment_builder: EnvironmentBuilder | None = None,
        approvals: Approvals | None = None,
        permissions: PackagePermissions | None = None,
        allow_unisolated: bool = False,
        gpu: str = "auto",
        isolation: IsolationSupport | None = None,
    ) -> None:
        """``approve``: True approves whatever package this is; a checksum approves only that one.
        ``approved_checksums``: a profile's approved list, read and left as it is (the caller
        stores approvals); ``approvals``: where to read and remember them. Without either, the
        preview's own list (:class:`PreviewApprovals`) is used and ``approve`` is remembered there.
        ``permissions``: what this version may do beyond the isolation (None: what the preview's
        own list allowed it before, else nothing); given ones are remembered there with its
        approval. ``allow_unisolated``: the person agreed to run it with their rights where this
        computer cannot isolate it (remembered in the preview's own list)."""
        self.package = Path(package)
        self.model = Path(model)
        self.data_folder = Path(data_folder).resolve()
        self.train = train
        self.approve = approve
        self.base_python = base_python
        self.extra_env = dict(extra_env or {})
        self.run_startup = run_startup
        self.timeout = timeout
        self._sink = sink or ignore_event
        self._cache = package_cache
        if approvals is None:
            approvals = PreviewApprovals() if approved_checksums is None else ApprovalList(approved_checksums)
        self._approvals = approvals
        self.permissions = permissions
        self.allow_unisolated = allow_unisolated
        self.gpu = gpu
        self._pipeline = PreparePipeline(
            approvals,
            environments=environment_builder,
            sink=self._sink,
            on_step=self._step,
            isolation=isolation,
        )
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()
        self._pipeline.cancel()

    def _stop_if_cancelled(self) -> None:
        # cancel() may come before the builder or the runner exists to receive it.
        if self._cancelled.is_set():
            raise EntryPointCancelled("preview")

    def _say(self, text: str, level: str = "info") -> None:
        self._sink(client_line(text, level))

    def _step(self, step: PrepareStep) -> None:
        self._stop_if_cancelled()
        if step is PrepareStep.PACKAGE:
            self._say(f"Checking the package {self.package} ...")
        elif step is PrepareStep.ENVIRONMENT:
            self._say("Preparing the Python environment ...")

    def run(self) -> PreviewResult:
        self._check_inputs()
        settings = RunSettings(
            self.data_folder,
            self.base_python,
            self.extra_env,
            self.gpu,
            self._permissions_for,
            self._unisolated_agreed,
        )
        ready = self._pipeline.run(lambda: prepare_package(self.package, self._cache), self._decide, settings)
        prepared, environment, runner = ready.package, ready.environment, ready.runner
        self._stop_if_cancelled()
        work = Path(tempfile.mkdtemp(prefix="fedgui-preview-"))
        try:
            startup_ran = False
            if self.run_startup and "startup" in prepared.manifest.entry_points:
                self._say("Running the package's startup step ...")
                runner.startup(timeout=self.timeout)
                startup_ran = True
            model_in = self._copy_model(work)
            train_metadata = trained_metrics = None
            if self.train:
                self._say("Training on your data (the result stays on this computer) ...")
                trained = runner.train(model_in, new_model_temp_path(work), timeout=self.timeout)
                train_metadata = trained.metadata
            self._say("Validating the given model on your data ...")
            model_metrics = runner.validate(model_in, new_temp_path(work, ".json"), timeout=self.timeout)
            if self.train:
                self._say("Validating the trained model on your data ...")
                trained_metrics = runner.validate(
                    trained.model_path, new_temp_path(work, ".json"), timeout=self.timeout
                )
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return PreviewResult(
            package=prepared,
            environment=environment,
            model_metrics=model_metrics,
            train_metadata=train_metadata,
            trained_metrics=trained_metrics,
            startup_ran=startup_ran,
            newly_approved=ready.newly_approved,
        )

    def _check_inputs(self) -> None:
        if not self.model.is_file():
            raise PreviewError(
                f"The model file {self.model} does not exist.", "Give the path of a model file."
            )
        if not self.data_folder.is_dir():
            raise PreviewError(
                f"The data folder {self.data_folder} does not exist.", "Give the folder that holds your data."
            )

    def _decide(self, package: PreparedPackage) -> bool:
        """The package is not approved yet: ``approve`` says whether to approve it now."""
        checksum = package.checksum
        if isinstance(self.approve, str) and normalize_checksum(self.approve) != checksum:
            raise ApprovalMismatch(
                f"You approved the package {self.approve.strip()}, but this package is {checksum}; "
                "nothing was run.",
                f"Review this package, then approve it with --approve {checksum}.",
            )
        if self.approve:
            self._say(f"Approved the package {checksum}.")
        return bool(self.approve)

    def _permissions_for(self, checksum: str) -> PackagePermissions:
        """Given ones apply (and are remembered with this version); else what it had before."""
        own_list = self._approvals if isinstance(self._approvals, PreviewApprovals) else None
        if self.permissions is not None:
            if own_list is not None:
                own_list.set_permissions(checksum, self.permissions)
            return self.permissions
        return own_list.permissions_for(checksum) if own_list is not None else NO_EXTRA_PERMISSIONS

    def _unisolated_agreed(self) -> bool:
        own_list = self._approvals if isinstance(self._approvals, PreviewApprovals) else None
        if self.allow_unisolated and own_list is not None:
            own_list.agree_unisolated()
        return self.allow_unisolated or (own_list is not None and own_list.unisolated_agreed())

    def _copy_model(self, work: Path) -> Path:
        # A copy: the train step writes "<in>-metadata" next to its input, and a package must
        # never be able to change the person's own model file.
        model_in = new_model_temp_path(work)
        with open(self.model, "rb") as source, open(model_in, "wb") as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
        return model_in


def run_preview(package: Path, model: Path, data_folder: Path, **options: Any) -> PreviewResult:
    """Run a preview to the end (see :class:`Preview` for the options)."""
    return Preview(package, model, data_folder, **options).run()


__all__ = [
    "ApprovalMismatch",
    "Preview",
    "PreviewApprovals",
    "PreviewError",
    "PreviewResult",
    "run_preview",
]
