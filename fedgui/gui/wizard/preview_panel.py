"""Runs a local preview (validate, optionally one training run) and shows metrics and the log.

Used twice: on the welcome page for the bundled example, and on the preview page for the
network's package with the person's data. The blocking work is a :class:`PreviewJob` that runs
on a worker thread; its log lines come back through gui.threads.main_thread_sink.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from fedgui.core.events import Event, EventSink, LogLine
from fedgui.core.execution.environment import EnvironmentBuildStep
from fedgui.core.execution.errors import EntryPointCancelled
from fedgui.core.preview import PreviewResult
from fedgui.gui.common.expandable_log import ExpandableLog
from fedgui.gui.common.message import MessageBox, Tone, plain_error
from fedgui.gui.common.metrics_table import MetricsTable
from fedgui.gui.threads import main_thread_sink, run_in_background


class PreviewJob(Protocol):
    def run(self) -> PreviewResult: ...

    def cancel(self) -> None: ...


#: Builds the job for one run: (event sink, also train?) -> job. Called on the UI thread; keep it cheap.
JobFactory = Callable[[EventSink, bool], PreviewJob]


def result_columns(result: PreviewResult) -> dict[str, dict[str, Any]]:
    columns = {"Current model": dict(result.model_metrics)}
    if result.trained_metrics is not None:
        columns["After one training run"] = dict(result.trained_metrics)
    return columns


def describe_result(result: PreviewResult) -> str:
    text = "The package ran on this computer and reported the metrics below. Nothing was sent anywhere."
    if result.train_metadata is not None:
        examples = result.train_metadata.get("num_examples")
        text += f" The training run used {examples} examples from your data."
    return text


class PreviewPanel(QWidget):
    started = Signal()
    finished = Signal(bool)  # True when the preview succeeded

    def __init__(self, run_label: str, allow_training: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job_factory: JobFactory | None = None
        self.result: PreviewResult | None = None
        self.error: BaseException | None = None
        self.running = False
        self._job: PreviewJob | None = None
        self._run_id = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self._run_label = run_label
        self.run_button = QPushButton(run_label, self)
        self.train_box = QCheckBox("Also try one &training run (takes longer; the result stays here)", self)
        self.train_box.setVisible(allow_training)
        row.addWidget(self.run_button)
        row.addWidget(self.train_box, 1)
        layout.addLayout(row)
        self.status = MessageBox(self)
        self.status.setVisible(False)
        layout.addWidget(self.status)
        self.metrics = MetricsTable(self)
        self.metrics.setVisible(False)
        layout.addWidget(self.metrics, 1)
        self.log = ExpandableLog("Show the package's &output", self)
        layout.addWidget(self.log, 1)
        # Takes the spare room while nothing below the button is open, so the log's toggle sits
        # right under it instead of floating in the middle of an empty page.
        layout.addStretch(1)
        self._layout = layout
        self.log.expanded_changed.connect(lambda _expanded: self._update_stretch())
        self._update_stretch()
        self._sink = main_thread_sink(self._on_event, owner=self)
        self.run_button.clicked.connect(self.toggle_run)

    def _update_stretch(self) -> None:
        log_open = self.log.view.isVisibleTo(self.log)
        something_open = self.metrics.isVisibleTo(self) or log_open
        self._layout.setStretch(self._layout.indexOf(self.log), 1 if log_open else 0)
        self._layout.setStretch(self._layout.count() - 1, 0 if something_open else 1)

    def toggle_run(self) -> None:
        if self.running:
            self.cancel()
        else:
            self.start()

    def start(self) -> None:
        if self.job_factory is None or self.running:
            return
        self._run_id += 1
        run_id = self._run_id
        self.result = self.error = None
        self.running = True
        self.metrics.setVisible(False)
        self._update_stretch()
        self.log.clear()
        self.status.show_text("Running the preview on this computer…", Tone.BUSY)
        self.run_button.setText("&Stop")
        self.train_box.setEnabled(False)
        job = self.job_factory(self._sink, self.train_box.isChecked())
        self._job = job
        self.started.emit()
        run_in_background(
            job.run,
            on_done=lambda result: self._done(run_id, result),
            on_error=lambda err: self._failed(run_id, err),
            owner=self,
        )

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, LogLine):
            prefix = "" if event.stream in ("stdout", "client") else f"[{event.stream}] "
            self.log.append_line(f"{prefix}{event.text}")
        elif isinstance(event, EnvironmentBuildStep):
            self.log.append_line(f"Environment step {event.index} of {event.total}: {event.label}")

    def _finish_run(self) -> None:
        self.running = False
        self._job = None
        self.run_button.setText(self._idle_label)
        self.train_box.setEnabled(True)

    @property
    def _idle_label(self) -> str:
        return "Run &again" if (self.result or self.error) else self._run_label

    def _done(self, run_id: int, result: PreviewResult) -> None:
        if run_id != self._run_id:
            return
        self.result = result
        self._finish_run()
        self.status.show_text(describe_result(result), Tone.OK)
        self.metrics.show_metrics(result_columns(result))
        self.metrics.setVisible(True)
        self._update_stretch()
        self.finished.emit(True)

    def _failed(self, run_id: int, error: BaseException) -> None:
        if run_id != self._run_id:
            return
        self.error = error
        self._finish_run()
        if isinstance(error, EntryPointCancelled):
            self.status.show_text("The preview was stopped. Nothing was sent anywhere.", Tone.INFO)
        else:
            self.status.show_text(f"The preview did not work. {plain_error(error)}", Tone.ERROR)
            self.log.set_expanded(True)
        self.finished.emit(False)
