"""The participation session (the FEDn client's state machine) and its parts.

``Session`` is imported lazily: the small parts (back-off, states, tokens) are usable without
pulling in gRPC and the package gate.
"""

from typing import Any

from fedgui.core.session.states import SessionState, describe

__all__ = ["PackageRejected", "Session", "SessionState", "SessionTiming", "describe"]


def __getattr__(name: str) -> Any:
    if name in ("PackageRejected", "Session", "SessionTiming"):
        from fedgui.core.session import engine

        return getattr(engine, name)
    raise AttributeError(name)
