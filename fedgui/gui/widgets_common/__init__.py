"""Small widgets shared by the wizard and the review dialog."""

from fedgui.gui.widgets_common.checklist import Checklist, CheckState
from fedgui.gui.widgets_common.expandable_log import ExpandableLog
from fedgui.gui.widgets_common.folder_summary import FolderSummary, summarize_folder
from fedgui.gui.widgets_common.message import MessageBox, Tone, plain_error
from fedgui.gui.widgets_common.metrics_table import MetricsTable, format_metric
from fedgui.gui.widgets_common.relay import Relay
from fedgui.gui.widgets_common.transfer_progress import TransferProgressBar, format_size

__all__ = [
    "CheckState",
    "Checklist",
    "ExpandableLog",
    "FolderSummary",
    "MessageBox",
    "MetricsTable",
    "Relay",
    "Tone",
    "TransferProgressBar",
    "format_metric",
    "format_size",
    "plain_error",
    "summarize_folder",
]
