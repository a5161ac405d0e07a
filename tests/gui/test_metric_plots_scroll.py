"""MetricPlots keeps QWidget.scroll(): its scroll area once hid the method (found by mypy)."""

from __future__ import annotations

from PySide6.QtWidgets import QScrollArea

from fedgui.gui.window.metric_plots import MetricPlots


def test_the_scroll_area_does_not_hide_qwidget_scroll(qtbot):
    plots = MetricPlots()
    qtbot.addWidget(plots)
    assert isinstance(plots.scroll_area, QScrollArea)
    plots.scroll(0, 0)  # QWidget.scroll(dx, dy); was "'QScrollArea' object is not callable"
