"""The states of a participation session and how each is said to a person."""

from __future__ import annotations

import enum


class SessionState(str, enum.Enum):
    IDLE = "idle"
    CONNECTING_CONTROLLER = "connecting_controller"
    WAITING_FOR_PACKAGE = "waiting_for_package"  # controller has no compute package yet (203)
    ASSIGNED = "assigned"
    PREPARING_PACKAGE = "preparing_package"
    REVIEW_NEEDED = "review_needed"  # a package (or a new version) waits for the person's approval
    BUILDING_ENVIRONMENT = "building_environment"
    STARTING_PACKAGE = "starting_package"  # the package's `startup` entry point
    CONNECTING_COMBINER = "connecting_combiner"
    READY = "ready"  # connected, waiting for work
    WORKING = "working"
    RECONNECTING = "reconnecting"
    PAUSING = "pausing"  # finishing the current task, then disconnecting
    PAUSED = "paused"
    TOKEN_REJECTED = "token_rejected"
    TOKEN_EXPIRED = "token_expired"
    ERROR = "error"  # needs the person: package broken, environment failed, ...
    STOPPED = "stopped"

    @property
    def is_waiting_for_person(self) -> bool:
        return self in WAITING_FOR_PERSON

    @property
    def is_connected(self) -> bool:
        return self in (SessionState.READY, SessionState.WORKING, SessionState.PAUSING)


#: No session thread at work: Start begins (again); everything else counts as taking part.
NOT_RUNNING = frozenset({SessionState.IDLE, SessionState.STOPPED})

WAITING_FOR_PERSON = frozenset(
    {SessionState.REVIEW_NEEDED, SessionState.TOKEN_REJECTED, SessionState.TOKEN_EXPIRED, SessionState.ERROR}
)

STATE_WORDS = {
    SessionState.IDLE: "Not taking part",
    SessionState.CONNECTING_CONTROLLER: "Connecting to the network",
    SessionState.WAITING_FOR_PACKAGE: "Waiting for the network's administrator to publish a compute package",
    SessionState.ASSIGNED: "Connected to the network",
    SessionState.PREPARING_PACKAGE: "Checking the compute package",
    SessionState.REVIEW_NEEDED: "The compute package needs your review",
    SessionState.BUILDING_ENVIRONMENT: "Preparing the Python environment",
    SessionState.STARTING_PACKAGE: "Starting the compute package",
    SessionState.CONNECTING_COMBINER: "Connecting to the combiner",
    SessionState.READY: "Waiting for work",
    SessionState.WORKING: "Working",
    SessionState.RECONNECTING: "Connection lost; reconnecting",
    SessionState.PAUSING: "Pausing after the current task",
    SessionState.PAUSED: "Paused",
    SessionState.TOKEN_REJECTED: "The network did not accept your access token",
    SessionState.TOKEN_EXPIRED: "Your access token has expired",
    SessionState.ERROR: "Stopped because of a problem",
    SessionState.STOPPED: "Stopped",
}


def describe(state: SessionState) -> str:
    """A short sentence for a status line."""
    return STATE_WORDS[state]
