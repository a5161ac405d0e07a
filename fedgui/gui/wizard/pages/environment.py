"""Page 5: build the Python environment the package asks for (or say that none is needed)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout

from fedgui.core.events import Event, LogLine
from fedgui.core.execution.environment import (
    BasePython,
    EnvironmentBuilder,
    EnvironmentBuildStep,
    PythonEnvironment,
    resolve_base_python_info,
)
from fedgui.core.package.manifest import PythonEnvSpec
from fedgui.gui.common.expandable_log import ExpandableLog
from fedgui.gui.common.message import MessageBox, Tone, plain_error
from fedgui.gui.threads import main_thread_sink
from fedgui.gui.wizard.pages.base import WizardPageBase


@dataclass(frozen=True)
class EnvironmentOutcome:
    base: BasePython
    environment: PythonEnvironment


def describe_base(base: BasePython) -> str:
    version = ".".join(str(part) for part in base.version)
    return f"{base.path} (Python {version})"


def describe_outcome(spec: PythonEnvSpec | None, outcome: EnvironmentOutcome) -> str:
    if spec is None:
        return (
            f"The package runs with {describe_base(outcome.base)} and nothing needs installing: it "
            "declares no python_env."
        )
    return f"The environment “{spec.name}” is ready at {outcome.environment.python.parent.parent}."


class EnvironmentPage(WizardPageBase):
    def __init__(self, builder: EnvironmentBuilder | None = None) -> None:
        super().__init__()
        self.setTitle("Prepare Python for the package")
        self.setSubTitle(
            "The package's code needs Python and sometimes extra Python packages. fedgui installs them "
            "in a separate folder; nothing else on this computer changes."
        )
        self.builder = builder or EnvironmentBuilder()
        self.outcome: EnvironmentOutcome | None = None
        self._building = False
        self._request = 0
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.interpreter_label = QLabel("looking…", self)
        self.interpreter_label.setWordWrap(True)
        self.interpreter_label.setAccessibleName("Python interpreter used")
        form.addRow("Python used:", self.interpreter_label)
        layout.addLayout(form)
        self.bar = QProgressBar(self)
        self.bar.setAccessibleName("Environment progress")
        self.step_label = QLabel(self)
        layout.addWidget(self.bar)
        layout.addWidget(self.step_label)
        self.status = MessageBox(self)
        layout.addWidget(self.status)
        row = QHBoxLayout()
        self.retry_button = QPushButton("&Try again", self)
        self.retry_button.setVisible(False)
        row.addWidget(self.retry_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.log = ExpandableLog("Show the installer's l&og (pip)", self)
        layout.addWidget(self.log, 1)
        self._sink = main_thread_sink(self._on_event, owner=self)
        self.retry_button.clicked.connect(self.start)

    def initializePage(self) -> None:
        if self.context.environment is None and not self._building:
            self.start()

    def cleanupPage(self) -> None:
        if self._building:
            self.builder.cancel()

    def start(self) -> None:
        context = self.context
        assert context.package is not None
        spec = context.package.manifest.python_env
        preferred = context.profile.base_python
        builder = self.builder
        sink = self._sink
        self._request += 1
        request = self._request
        self._building = True
        self.outcome = None
        self.retry_button.setVisible(False)
        self.log.clear()
        self.bar.setRange(0, 0)
        self.step_label.setText("")
        what = (
            "Finding Python…" if spec is None else "Preparing the environment; this can take a few minutes…"
        )
        self.status.show_text(what, Tone.BUSY)
        self.completeChanged.emit()

        def build() -> EnvironmentOutcome:
            base = resolve_base_python_info(preferred)
            sink(("base", base))
            return EnvironmentOutcome(base, builder.ensure(spec, base, on_line=sink, on_progress=sink))

        self.background(build, lambda o: self._built(request, spec, o), lambda e: self._failed(request, e))

    def _on_event(self, value: Event | tuple) -> None:
        if isinstance(value, tuple):
            self.interpreter_label.setText(describe_base(value[1]))
        elif isinstance(value, EnvironmentBuildStep):
            self.bar.setRange(0, value.total)
            self.bar.setValue(value.index - 1)
            self.step_label.setText(f"Step {value.index} of {value.total}: {value.label}")
        elif isinstance(value, LogLine):
            self.log.append_line(value.text)

    def _built(self, request: int, spec: PythonEnvSpec | None, outcome: EnvironmentOutcome) -> None:
        if request != self._request:
            return
        self._building = False
        self.outcome = outcome
        self.context.environment = outcome.environment
        self.interpreter_label.setText(describe_base(outcome.base))
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        self.step_label.setText("Done.")
        self.status.show_text(describe_outcome(spec, outcome), Tone.OK)
        self.completeChanged.emit()

    def _failed(self, request: int, error: BaseException) -> None:
        if request != self._request:
            return
        self._building = False
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.status.show_text(plain_error(error), Tone.ERROR)
        self.retry_button.setVisible(True)
        self.log.set_expanded(True)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.outcome is not None and not self._building
