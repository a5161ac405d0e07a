"""Errors of the entry-point runner: each says what the package did wrong, in words its author
(and the person running it) can act on."""

from __future__ import annotations

from collections.abc import Sequence

from fedgui.core.errors import FedguiError

_FOR_THE_AUTHOR = (
    "If it does not tell you what to fix on your side (such as a missing data file), send this "
    "message to the operator of your network: the package's code needs fixing."
)


class EntryPointError(FedguiError):
    """Base class: running a package entry point failed."""

    default_next_step = _FOR_THE_AUTHOR

    def __init__(self, entry_point: str, message: str, next_step: str | None = None) -> None:
        super().__init__(message, next_step)
        self.entry_point = entry_point


class EntryPointMissing(EntryPointError):
    def __init__(self, entry_point: str, available: Sequence[str]) -> None:
        listed = ", ".join(sorted(available)) or "none"
        super().__init__(
            entry_point,
            f"The package has no '{entry_point}' entry point in its fedn.yaml (it has: {listed}).",
        )


def quoted_error_output(stderr_tail: Sequence[str]) -> str:
    """The step's last lines of error output (stderr, where Python writes its tracebacks),
    quoted for a message; "" when it wrote none."""
    if not stderr_tail:
        return ""
    return "Last lines of its error output:\n" + "\n".join(f"    {line}" for line in stderr_tail)


def _tail_text(stderr_tail: Sequence[str]) -> str:
    return quoted_error_output(stderr_tail) or "It wrote no error output."


class EntryPointCrashed(EntryPointError):
    """The command exited with a non-zero code."""

    def __init__(self, entry_point: str, exit_code: int, stderr_tail: Sequence[str]) -> None:
        self.exit_code = exit_code
        self.stderr_tail = list(stderr_tail)
        if exit_code < 0:
            how = f"was stopped by signal {-exit_code}"
            if exit_code == -9:
                how += " (often: the computer ran out of memory)"
        elif exit_code == 127:
            how = "could not be started: exit code 127, 'command not found'"
        else:
            how = f"failed with exit code {exit_code}"
        super().__init__(entry_point, f"The package's '{entry_point}' step {how}. {_tail_text(stderr_tail)}")


class EntryPointTimedOut(EntryPointError):
    default_next_step = (
        "If your data is large, raise the time limit in the settings; "
        "otherwise tell the operator of your network."
    )

    def __init__(self, entry_point: str, timeout: float, stderr_tail: Sequence[str]) -> None:
        self.stderr_tail = list(stderr_tail)
        super().__init__(
            entry_point,
            f"The package's '{entry_point}' step did not finish within {timeout:g} seconds and was stopped. "
            f"{_tail_text(stderr_tail)}",
        )


class EntryPointCancelled(EntryPointError):
    default_next_step = ""

    def __init__(self, entry_point: str) -> None:
        super().__init__(entry_point, f"The package's '{entry_point}' step was cancelled.")


class EntryPointStartFailed(EntryPointError):
    default_next_step = (
        "Check that the package folder still exists and that bash is installed, then try again."
    )


class BadEntryPointOutput(EntryPointError):
    """The command succeeded but its output files break the FEDn package contract."""


class ModelOutputMissing(BadEntryPointOutput):
    def __init__(self, entry_point: str, path: str) -> None:
        super().__init__(
            entry_point,
            f"The '{entry_point}' step finished but wrote no model: the file given as its second argument "
            f"({path}) is missing or empty. It must save the trained model to exactly that path "
            "(with numpy: np.savez_compressed on an open file, since numpy adds '.npz' to bare names).",
        )


class ModelOutputInvalid(BadEntryPointOutput):
    def __init__(self, entry_point: str, problem: str) -> None:
        super().__init__(
            entry_point,
            f"The '{entry_point}' step wrote a model the network cannot use: {problem}. Nothing was sent. "
            "The network's numpy helper needs an .npz file of numeric arrays with finite values.",
        )


class TrainMetadataMissing(BadEntryPointOutput):
    def __init__(self, entry_point: str, path: str) -> None:
        super().__init__(
            entry_point,
            f"The '{entry_point}' step wrote no training metadata: '{path}' is missing. It must write a JSON "
            'object such as {"num_examples": 1200} to "<output model path>-metadata".',
        )


class TrainMetadataInvalid(BadEntryPointOutput):
    def __init__(self, entry_point: str, path: str, problem: str) -> None:
        super().__init__(
            entry_point,
            f"The '{entry_point}' step wrote unusable training metadata in '{path}': {problem}. It must be a "
            'JSON object with a numeric "num_examples", such as {"num_examples": 1200}.',
        )


class MetricsOutputMissing(BadEntryPointOutput):
    def __init__(self, entry_point: str, path: str) -> None:
        super().__init__(
            entry_point,
            f"The '{entry_point}' step wrote no results: '{path}' (its second argument) is missing or empty. "
            'It must write a JSON object there, such as {"test_accuracy": 0.91}.',
        )


class MetricsOutputInvalid(BadEntryPointOutput):
    def __init__(self, entry_point: str, path: str, problem: str) -> None:
        super().__init__(
            entry_point,
            f"The '{entry_point}' step wrote unusable results in '{path}': {problem}. "
            'It must write a JSON object there, such as {"test_accuracy": 0.91}.',
        )
