"""How long a step of a task may run before fedgui stops it and reports the task failed.

The combiner waits for a training update only until the round's ``round_timeout`` (sent in the
task's round config, as text: ``"round_timeout": "180"``); a step still running after that works
for nothing and holds the computer, and a hung step would keep fedgui "working" for good. So the
limit is, in order: the profile's own setting, else the round's time limit (validations, which
carry no round config, use the last one seen in the same session), else a fallback.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fedgui.core.errors import FedguiError
from fedgui.core.execution.errors import quoted_error_output

#: When neither the profile nor the network says anything: long enough for real training on a
#: desktop, short enough that a hung step does not keep the computer busy all day.
FALLBACK_LIMIT_SECONDS = 4 * 3600.0


@dataclass(frozen=True)
class StepLimit:
    seconds: float
    #: Where the limit comes from, in words for the person: "your setting", "the network's
    #: time limit for a round", "fedgui's default".
    source: str


def round_timeout(config: Mapping[str, Any]) -> float | None:
    """The round config's ``round_timeout`` in seconds, None when absent or unusable."""
    value = config.get("round_timeout")
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def step_limit(
    profile_minutes: int | None, network_seconds: float | None, fallback: float = FALLBACK_LIMIT_SECONDS
) -> StepLimit:
    if profile_minutes:
        return StepLimit(profile_minutes * 60.0, "your setting")
    if network_seconds:
        return StepLimit(network_seconds, "the network's time limit for a round")
    return StepLimit(fallback, "fedgui's default")


def describe_seconds(seconds: float) -> str:
    """ "90 seconds", "3 minutes", "2.5 hours": for messages."""
    if seconds < 120:
        return f"{seconds:g} seconds"
    if seconds < 7200:
        return f"{seconds / 60:.3g} minutes"
    return f"{seconds / 3600:.3g} hours"


class StepTimeLimitReached(FedguiError):
    """A task's step ran past its limit; it was stopped and the task reported as failed."""

    def __init__(self, kind: str, limit: StepLimit, stderr_tail: list[str]) -> None:
        self.limit = limit
        tail = quoted_error_output(stderr_tail)
        if limit.source == "your setting":
            next_step = "If your data needs more time, raise the time limit in the settings."
        else:
            next_step = (
                "If your data needs more time, ask the operator of your network for longer rounds; "
                "you can also set a time limit of your own in the settings."
            )
        super().__init__(
            f"The {kind} step ran longer than its time limit of {describe_seconds(limit.seconds)} "
            f"({limit.source}) and was stopped; fedgui told the network that this task failed."
            + (f" {tail}" if tail else ""),
            next_step,
        )
