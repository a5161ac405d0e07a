"""The time limit of a task's step: the profile's setting, else the network's round time limit."""

from __future__ import annotations

from fedgui.core.session.step_limit import (
    FALLBACK_LIMIT_SECONDS,
    StepTimeLimitReached,
    describe_seconds,
    round_timeout,
    step_limit,
)


def test_round_timeout_is_read_from_the_round_config_text():
    assert round_timeout({"round_timeout": "180"}) == 180.0
    assert round_timeout({"round_timeout": 60}) == 60.0
    for odd in ({}, {"round_timeout": "None"}, {"round_timeout": "0"}, {"round_timeout": "nan"}):
        assert round_timeout(odd) is None


def test_the_profile_wins_then_the_network_then_the_fallback():
    assert step_limit(10, 180.0).seconds == 600.0
    assert step_limit(None, 180.0).seconds == 180.0
    assert step_limit(None, None).seconds == FALLBACK_LIMIT_SECONDS


def test_the_message_says_how_long_where_the_limit_came_from_and_that_the_network_knows():
    error = StepTimeLimitReached("training", step_limit(None, 90.0), ["epoch 3 of 50"])
    text = str(error)
    assert "90 seconds" in text and "round" in text and "told the network" in text
    assert "epoch 3 of 50" in text
    assert describe_seconds(600) == "10 minutes"
