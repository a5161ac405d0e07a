"""Errors that a person may read.

Every failure the core reports is a :class:`FedguiError` carrying two plain-language parts:
what happened, and what to do next. The GUI shows both; the CLI prints both. Tracebacks are
for the log file, never for the person.
"""

from __future__ import annotations


class FedguiError(Exception):
    """Base class for errors shown to the person using fedgui."""

    #: Default advice when a subclass does not give a more specific one.
    default_next_step = ""

    def __init__(self, message: str, next_step: str | None = None, *, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.next_step = self.default_next_step if next_step is None else next_step
        #: Technical facts for support (an address, a status code); shown behind "Details".
        self.details = details

    def user_text(self) -> str:
        """The message and the next step as one paragraph."""
        if self.next_step:
            # After a multi-line message (a quoted stderr tail) the advice starts a line of its own,
            # so it is not read as the last line the program wrote.
            separator = "\n" if "\n" in self.message else " "
            return f"{self.message}{separator}{self.next_step}"
        return self.message

    def __str__(self) -> str:
        return self.user_text()
