"""Errors of the compute-package gate.

Every message says what happened in plain words and that nothing from the package was run, because
the person reading it needs to know their machine is safe before they decide what to do next.
"""

from __future__ import annotations

from fedgui.core.errors import FedguiError

#: Appended to every refusal so the person knows the refusal had no side effects.
NOTHING_RAN = "Nothing from it was run, and the last approved package stays in use."
TELL_OPERATOR = (
    "Tell the network operator; the package has to be rebuilt (for example with `fedn package create`)."
)


class PackageError(FedguiError):
    """Base class: something is wrong with a compute package."""

    default_next_step = TELL_OPERATOR


class ChecksumMismatch(PackageError):
    """The archive's SHA-256 differs from the one the controller (or a pin) announced."""

    default_next_step = (
        "Try downloading it again. If it keeps happening, tell the network operator: "
        "the package may have been changed or damaged on the way."
    )

    def __init__(self, expected: str, actual: str, next_step: str | None = None) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            "The downloaded compute package does not match the network's checksum "
            f"(expected {expected}, got {actual}). It was not unpacked and nothing from it was run; "
            "the last approved package stays in use.",
            next_step,
        )


class UnsupportedArchive(PackageError):
    """The archive is not a tar archive we can read (zip, unknown or damaged)."""


class UnsafeArchive(PackageError):
    """A member would land outside the package folder, or is a device, fifo or escaping link."""


class ArchiveTooLarge(PackageError):
    """Too many members or too many bytes once unpacked (an archive bomb, or a limit set too low)."""

    default_next_step = (
        "If the package really is this big, raise the unpack limits in the settings; "
        "otherwise tell the network operator."
    )


class ManifestError(PackageError):
    """fedn.yaml or the python_env file is missing or malformed."""


class PackageNotApproved(PackageError):
    """The package has not been approved on this computer yet."""

    def __init__(self, checksum: str) -> None:
        self.checksum = checksum
        super().__init__(
            f"The compute package {checksum} has not been approved on this computer yet, "
            "so none of its code has been run.",
            "Look at it and approve it in fedgui under Review → Approve, or, when running headless, "
            f"start again with --approve {checksum}.",
        )
