"""Reading a token's expiry without verifying it.

FEDn's combiner answers an expired token with the same "Invalid token" as a wrong one (its gRPC
interceptor catches the parent exception first). To tell the person "your token expired"
rather than "your token is wrong", read the JWT's ``exp`` claim ourselves. The signature is
not checked: this only chooses which message to show; the server decides what is accepted.
"""

from __future__ import annotations

import base64
import json
import time


def token_expiry(token: str | None) -> float | None:
    """The ``exp`` claim of a JWT (seconds since the epoch), or None when there is none."""
    if not token or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        padded = payload + "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, (int, float)) else None


def token_is_expired(token: str | None, now: float | None = None) -> bool:
    expiry = token_expiry(token)
    return expiry is not None and expiry <= (time.time() if now is None else now)
