"""Reviewing a compute package before it may run: the widget (wizard step) and the dialog (updates)."""

from fedgui.gui.review.dialog import PackageReviewDialog
from fedgui.gui.review.widget import PackageReviewWidget

__all__ = ["PackageReviewDialog", "PackageReviewWidget"]
