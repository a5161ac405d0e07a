"""Headless console: said once, every line timestamped (issue 11 §6)."""

from __future__ import annotations

import io
import re

from fedgui.cli.console import ConsoleRenderer
from fedgui.core.errors import FedguiError
from fedgui.core.events import LogLine, StateChanged, TaskStarted, client_line
from fedgui.core.session.states import SessionState

STAMP = re.compile(r"^\d\d:\d\d:\d\d ")


def _render(events) -> list[str]:
    out = io.StringIO()
    renderer = ConsoleRenderer(out=out)
    for event in events:
        renderer(event)
    return out.getvalue().splitlines()


def test_waiting_is_said_once_and_reconnects_once_per_outage():
    waiting = [StateChanged(state=SessionState.WAITING_FOR_PACKAGE)] * 20
    outage = []
    for delay in (1, 2, 4, 8, 16):
        outage += [
            StateChanged(state=SessionState.CONNECTING_CONTROLLER, detail="connecting to the network"),
            client_line(f"the controller is down — reconnecting in {delay} s", "warning"),
            StateChanged(state=SessionState.RECONNECTING, detail=f"reconnecting in {delay} s"),
        ]
    lines = _render([*waiting, *outage, StateChanged(state=SessionState.READY), *outage[:3]])
    text = "\n".join(lines)
    assert text.count("publish a compute package") == 1
    assert text.count("reconnecting in") == 2 * 2  # the warning and the state, before and after READY


def test_every_line_has_the_time_also_inside_a_long_message():
    error = FedguiError("The package's 'train' step failed.\nLast lines:\n    boom", "Tell the operator.")
    lines = _render(
        [
            StateChanged(state=SessionState.ERROR, detail="it failed", error=error),
            LogLine(source="train", stream="stderr", text="one\ntwo"),
            TaskStarted(task_id="t", kind="train", round_id="1", model_id="m", session_id="s"),
        ]
    )
    assert len(lines) >= 6
    assert all(STAMP.match(line) for line in lines), lines


def test_the_package_output_is_never_deduplicated():
    lines = _render([LogLine(source="train", stream="stdout", text="epoch 1")] * 3)
    assert len(lines) == 3


def test_an_errors_details_follow_it_on_stderr_indented_and_once_per_outage():
    out, err = io.StringIO(), io.StringIO()
    renderer = ConsoleRenderer(out=out, err=err)
    refused = FedguiError(
        "Nothing answers at this address and port.",
        details="Controller address: http://127.0.0.1:9 (ConnectionError)",
    )
    for delay in (1, 2):
        renderer(client_line(f"{refused} — reconnecting in {delay} s", "warning", refused.details))
    renderer(StateChanged(state=SessionState.ERROR, detail="it failed", error=refused))

    assert "Controller address" not in out.getvalue()  # the plain words stay plain
    details = err.getvalue().splitlines()
    assert len(details) == 4, details  # the repeated warning's details are not said again
    assert all(STAMP.match(line) for line in details), details
    assert details[0].endswith("         Details:")
    assert details[1].endswith("           Controller address: http://127.0.0.1:9 (ConnectionError)")


def test_a_line_without_details_prints_nothing_to_stderr():
    out, err = io.StringIO(), io.StringIO()
    renderer = ConsoleRenderer(out=out, err=err)
    renderer(StateChanged(state=SessionState.ERROR, error=FedguiError("It failed.")))
    renderer(client_line("plain news"))
    assert err.getvalue() == ""
    assert "It failed." in out.getvalue()


def test_internal_warnings_are_stamped_on_stderr_once_set_up(capsys):
    import logging

    from fedgui.cli.console import StampedLogHandler, send_internal_warnings_to_stderr

    logger = logging.getLogger("fedgui")
    before = list(logger.handlers)
    try:
        send_internal_warnings_to_stderr()
        send_internal_warnings_to_stderr()  # twice: still one handler, one line per warning
        assert sum(isinstance(h, StampedLogHandler) for h in logger.handlers) == 1
        pruner = logging.getLogger("fedgui.core.session.package_fetch")
        pruner.warning("could not prune the package cache: %s", "busy")
        logging.getLogger("fedgui.core.controller.client").debug("not for the operator")
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1
        said = "fedgui: warning: could not prune the package cache: busy"
        assert re.fullmatch(r"\d\d:\d\d:\d\d " + said, err[0])
    finally:
        logger.handlers[:] = before
