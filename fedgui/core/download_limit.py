"""How large one download (the compute package, a global model) may be.

A network, by mistake or not, can offer a file that fills the disk. fedgui stops a download
that is larger than the limit (before it starts when the size is announced, else once it has
received that much) and deletes what it received.
"""

from __future__ import annotations

from fedgui.core.errors import FedguiError

#: Default: far above real packages (kilobytes to megabytes) and most models, far below a full disk.
DEFAULT_LIMIT_MB = 4096


def limit_bytes(profile_limit_mb: int | None) -> int:
    return (profile_limit_mb or DEFAULT_LIMIT_MB) * 1_000_000


class DownloadTooLarge(FedguiError):
    default_next_step = (
        "If the network really needs such large files, raise the download limit in the settings; "
        "otherwise tell the operator of your network."
    )

    def __init__(self, what: str, limit: int, size: int | None = None) -> None:
        self.limit = limit
        amount = f"is {size / 1e6:,.0f} MB" if size is not None else "grew beyond that"
        super().__init__(
            f"The download of {what} was stopped: it {amount}, and the limit for one download on "
            f"this computer is {limit / 1e6:,.0f} MB. What was received has been deleted."
        )


def check_size(what: str, size: int | None, limit: int | None) -> None:
    if limit is not None and size is not None and size > limit:
        raise DownloadTooLarge(what, limit, size)
