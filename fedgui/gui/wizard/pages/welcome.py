"""Page 1: what fedgui does with your data, what the wizard will do, and a safe example to try."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QVBoxLayout

from fedgui.core.events import EventSink
from fedgui.core.preview import Preview
from fedgui.gui.wizard.example import find_example_folder
from fedgui.gui.wizard.pages.base import WizardPageBase
from fedgui.gui.wizard.preview_panel import PreviewPanel

PROMISE = (
    "Your data stays on this computer. The network sends a model; your computer trains it on "
    "your data and sends back only the updated model."
)
STEPS = (
    "This assistant will:\n"
    "  1. connect to your network (your project admin gives you its address and a token),\n"
    "  2. ask which folder holds your data,\n"
    "  3. download the code the network wants to run here and show it to you, for your approval,\n"
    "  4. prepare the Python it needs,\n"
    "  5. try it once on your data, here, without sending anything."
)
EXAMPLE_HELP = (
    "Not sure yet? The example below runs a small sample package on sample data, entirely on this "
    "computer and without a network, so you can see what taking part looks like."
)


class WelcomePage(WizardPageBase):
    def __init__(self, example_folder: Path | None = None) -> None:
        super().__init__()
        self.setTitle("Take part in a federated-learning network")
        self.example_folder = example_folder or find_example_folder()
        layout = QVBoxLayout(self)
        promise = self.paragraph(PROMISE)
        font = promise.font()
        font.setBold(True)
        promise.setFont(font)
        layout.addWidget(promise)
        layout.addWidget(self.paragraph(STEPS))
        layout.addWidget(self.paragraph(EXAMPLE_HELP))
        self.example = PreviewPanel("Try the e&xample first", allow_training=True, parent=self)
        self.example.setAccessibleName("Example preview")
        layout.addWidget(self.example, 1)
        if self.example_folder is None:
            self.example.run_button.setEnabled(False)
            self.example.run_button.setToolTip("The example is not installed with this copy of fedgui.")
        else:
            self.example.job_factory = self._example_job

    def _example_job(self, sink: EventSink, train: bool) -> Preview:
        folder = self.example_folder
        assert folder is not None
        # The example ships with fedgui itself, so pressing the button is the approval.
        return Preview(
            folder / "package", folder / "seed.npz", folder / "data", train=train, approve=True, sink=sink
        )

    def cleanupPage(self) -> None:
        self.example.cancel()
