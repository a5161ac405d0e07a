"""The session's state as a person reads it: one plain headline, and the next step when one is needed.

The session's own detail ("training round 7", "connecting to combiner at host:port") is for the
log; what the window shows is built here from the state, with round numbers and waits kept.
"""

from __future__ import annotations

import re

from fedgui.core.session.states import SessionState

HEADLINES = {
    SessionState.IDLE: "Not taking part",
    SessionState.CONNECTING_CONTROLLER: "Connecting to the network…",
    SessionState.WAITING_FOR_PACKAGE: "Connected — waiting for the network to publish its code",
    SessionState.ASSIGNED: "Connected to the network",
    SessionState.PREPARING_PACKAGE: "Checking the network's code…",
    SessionState.REVIEW_NEEDED: "The network has a new version of its code",
    SessionState.BUILDING_ENVIRONMENT: "Preparing the Python the network's code needs…",
    SessionState.STARTING_PACKAGE: "Starting the network's code…",
    SessionState.CONNECTING_COMBINER: "Connecting to the network…",
    SessionState.READY: "Connected — waiting for the next training round",
    SessionState.WORKING: "Working on your data",
    SessionState.RECONNECTING: "Can't reach the network — trying again",
    SessionState.PAUSING: "Pausing after the current task…",
    SessionState.PAUSED: "Paused",
    SessionState.TOKEN_REJECTED: "The network did not accept your access token",
    SessionState.TOKEN_EXPIRED: "Your access token has expired",
    SessionState.ERROR: "Stopped because of a problem",
    SessionState.STOPPED: "Not taking part",
}

NEXT_STEPS = {
    SessionState.IDLE: "Press Start taking part when you are ready.",
    SessionState.STOPPED: "Press Start taking part to join again.",
    SessionState.REVIEW_NEEDED: "Review it to keep taking part.",
    SessionState.TOKEN_REJECTED: "Enter the token your project admin gave you.",
    SessionState.TOKEN_EXPIRED: "Ask your project admin for a new token and enter it.",
    SessionState.ERROR: "Read what went wrong below, then try again.",
    SessionState.PAUSED: "Press Resume to take part again.",
    SessionState.READY: "Nothing to do: fedgui trains when the network starts a round.",
}

_VERBS = {"training": "Training on your data", "validating": "Checking the network's model on your data"}
_ROUND = re.compile(r"round\s+(\S+)", re.I)
_SECONDS = re.compile(r"(\d+)\s*s\b")


def plain_headline(state: SessionState, detail: str = "") -> str:
    """E.g. "Training on your data (round 7)", "Can't reach the network — trying again in 8 s"."""
    text = HEADLINES.get(state, state.value)
    if state is SessionState.WORKING:
        verb = next((words for key, words in _VERBS.items() if detail.lower().startswith(key)), None)
        if verb:
            text = verb
        found = _ROUND.search(detail)
        if found:
            text += f" (round {found.group(1)})"
    elif state is SessionState.RECONNECTING:
        wait = _SECONDS.search(detail)
        if wait:
            text += f" in {wait.group(1)} s"
    return text


def next_step(state: SessionState) -> str:
    return NEXT_STEPS.get(state, "")
