"""HS256 JWTs made with the standard library, so the test venv needs no PyJWT.

FEDn checks ``role`` (``client`` or ``admin``) and ``exp`` with PyJWT's defaults.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(
    secret: str, role: str = "client", expired: bool = False, lifetime_s: int = 3600, **claims
) -> str:
    """A signed token for ``role``; ``expired=True`` gives one whose ``exp`` lies an hour back."""
    now = int(time.time())
    payload = {"role": role, "iat": now - 7200 if expired else now, **claims}
    payload["exp"] = now - 3600 if expired else now + lifetime_s
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(payload).encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"
