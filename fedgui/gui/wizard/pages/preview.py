"""Page 6: run the package's validate step on the network's current model with this computer's data."""

from __future__ import annotations

import functools
import threading
from pathlib import Path

from PySide6.QtWidgets import QVBoxLayout

from fedgui.core.controller.errors import TokenExpired, TokenRejected
from fedgui.core.errors import FedguiError
from fedgui.core.events import EventSink, client_line
from fedgui.core.execution.errors import EntryPointCancelled
from fedgui.core.preview import Preview, PreviewResult
from fedgui.gui.common.message import MessageBox, Tone
from fedgui.gui.wizard.context import WizardContext
from fedgui.gui.wizard.pages.base import WizardPageBase
from fedgui.gui.wizard.preview_panel import PreviewPanel

# FEDn 0.33 lists and serves models to admin tokens only, so a client token is refused here even
# though the same token will receive models from the combiner during real rounds.
MODEL_REFUSED = (
    "This network lets only its administrators download its model before joining, so the check on "
    "your data cannot run here."
)
CHECKED_WITHOUT_MODEL = (
    "What was checked: the network's code was downloaded, verified and approved by you, and the Python "
    "it needs is ready. Not checked yet: how the network's model does on your data. fedgui checks that "
    "with the first model the network sends, on this computer and before it sends anything back, and "
    "shows it in the main window as “How the network's model does on your data”."
)
EMPTY_FOLDER_WARNING = (
    "Your data folder has no files, so this check ran without your data: it does not show whether the "
    "network's code can read your data or how the model does on it. Put your data in the folder (or "
    "go Back and choose another one) before the first round."
)


class ModelNotAvailable(FedguiError):
    default_next_step = CHECKED_WITHOUT_MODEL


class NetworkPreview:
    """Download the current global model, then run the preview with the approved package."""

    def __init__(self, context: WizardContext, sink: EventSink, train: bool) -> None:
        profile = context.profile
        assert context.package_archive is not None and profile.data_folder is not None
        self._context = context
        self._sink = sink
        self._cancelled = threading.Event()
        self._preview: Preview | None = None
        self._new_preview = functools.partial(
            Preview,
            train=train,
            approved_checksums=list(profile.approved_checksums),
            base_python=profile.base_python,
            extra_env=dict(profile.extra_env),
            sink=sink,
            package_cache=context.package_cache,
        )
        self._archive = context.package_archive
        self._data = profile.data_folder
        self._lock = threading.Lock()

    def run(self) -> PreviewResult:
        client = self._context.controller(timeout=30.0)
        try:
            self._say("Asking the network for its current model…")
            model_id = client.latest_model_id()
            self._say(f"Downloading the network's current model ({model_id})…")
            model = client.download_model(model_id, self._context.work_dir() / f"model-{model_id}.npz")
        except TokenRejected as err:
            if isinstance(err, TokenExpired):
                raise
            raise ModelNotAvailable(MODEL_REFUSED) from err
        finally:
            client.close()
        with self._lock:
            if self._cancelled.is_set():
                raise EntryPointCancelled("validate")
            self._preview = self._new_preview(Path(self._archive), model, Path(self._data))
        return self._preview.run()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled.set()
            if self._preview is not None:
                self._preview.cancel()

    def _say(self, text: str) -> None:
        self._sink(client_line(text, "info"))


class PreviewPage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Try it on your data")
        self.setSubTitle(
            "fedgui now runs the package's validation step on the network's current model with your "
            "data, here on this computer. Nothing is sent to the network."
        )
        layout = QVBoxLayout(self)
        self.data_warning = MessageBox(self)
        self.data_warning.setVisible(False)
        layout.addWidget(self.data_warning)
        self.panel = PreviewPanel("&Run the check", allow_training=True, parent=self)
        self.panel.job_factory = lambda sink, train: NetworkPreview(self.context, sink, train)
        self.panel.finished.connect(self._finished)
        self.panel.started.connect(self.completeChanged)
        layout.addWidget(self.panel, 1)

    def initializePage(self) -> None:
        if self.context.data_file_count == 0:
            self.data_warning.show_text(EMPTY_FOLDER_WARNING, Tone.WARNING)
        else:
            self.data_warning.setVisible(False)
        if self.panel.result is None and not self.panel.running:
            self.panel.start()
        self.completeChanged.emit()

    def cleanupPage(self) -> None:
        self.panel.cancel()

    def _finished(self, ok: bool) -> None:
        empty = self.context.data_file_count == 0
        if ok:
            self.context.preview_summary = (
                "ran, but your data folder is empty" if empty else "the network's code ran on your data"
            )
        elif isinstance(self.panel.error, ModelNotAvailable):
            # Not a failure of anything the person did: say plainly what was and was not checked.
            self.panel.status.show_text(f"{MODEL_REFUSED} {CHECKED_WITHOUT_MODEL}", Tone.WARNING)
            self.panel.log.set_expanded(False)
            self.context.preview_summary = (
                "not possible before joining; fedgui checks the first model the network sends"
            )
        elif isinstance(self.panel.error, EntryPointCancelled):
            self.context.preview_summary = "stopped before it finished"
        else:
            self.context.preview_summary = "did not work (see the preview page)"
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        # A failed check does not block: the problem may be the package's, and the person may
        # still want to save the connection. The summary says how it went.
        return not self.panel.running
