"""What every wizard page shares: the context, and background work that survives page closing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QWidget, QWizardPage

from fedgui.gui.threads import run_in_background
from fedgui.gui.wizard.context import WizardContext


class WizardPageBase(QWizardPage):
    @property
    def context(self) -> WizardContext:
        return self.wizard().context  # type: ignore[attr-defined]

    def background(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        """Run ``fn`` on a worker; the callbacks are skipped if the page was destroyed meanwhile
        (the person closed the wizard while a download was still running)."""
        run_in_background(fn, on_done=on_done, on_error=on_error, owner=self)

    def paragraph(self, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setWordWrap(True)
        return label

    def add_field(self, form: QFormLayout, label: str, field: QWidget, *beside: QWidget) -> None:
        """A form row: ``label`` (its mnemonic moves to ``field``), the field, and the widgets
        ``beside`` it (a button) on its right."""
        caption = QLabel(label, self)
        caption.setBuddy(field)
        if not beside:
            form.addRow(caption, field)
            return
        row = QHBoxLayout()
        row.addWidget(field, 1)
        for widget in beside:
            row.addWidget(widget)
        form.addRow(caption, row)
