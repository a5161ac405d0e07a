"""The connection wizard: connect, choose data, review the package, prepare, preview, finish."""

from fedgui.gui.wizard.wizard import ConnectionWizard, PageId

__all__ = ["ConnectionWizard", "PageId"]
