"""Whether the access token travels encrypted, in words for the person.

FEDn networks without TLS exist (test networks, a private network behind a firewall). fedgui
still connects to them, as FEDn's own client does, but with a token it says once, plainly, that
the token is sent unencrypted; a profile can instead require a secure connection, and then
fedgui refuses before it sends the token anywhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fedgui.core.errors import FedguiError

TOKEN_UNENCRYPTED = (
    "Your access token is sent to the network without encryption, because the network's server "
    "does not use a secure (TLS) connection. Someone who can watch the traffic between this "
    "computer and the server could copy the token and act as this computer. Ask your project "
    "admin to turn on TLS; in the settings you can make fedgui refuse connections that are not secure."
)


class InsecureConnectionRefused(FedguiError):
    default_next_step = (
        "Ask your project admin to turn on TLS for the network, or turn off "
        "'Require a secure connection' in the settings if this network is meant to run without it."
    )


def controller_is_encrypted(controller_url: str) -> bool:
    return urlsplit(controller_url).scheme.lower() == "https"


def require_secure_controller(controller_url: str, require_tls: bool) -> None:
    """Before anything is sent to the controller: refuse a plain-HTTP address when the profile
    requires a secure connection."""
    if require_tls and not controller_is_encrypted(controller_url):
        raise InsecureConnectionRefused(
            "This connection requires a secure connection, but the network's address does not use "
            "one (it starts with http://, not https://). fedgui did not connect and did not send your token."
        )


def token_exposure_notice(
    controller_url: str, combiner_encrypted: bool, token: str | None, require_tls: bool
) -> str | None:
    """The sentence to say once when the token would travel unencrypted (None when it does not,
    or when there is no token); raises InsecureConnectionRefused when the profile requires TLS."""
    if combiner_encrypted and controller_is_encrypted(controller_url):
        return None
    if require_tls:
        raise InsecureConnectionRefused(
            "This connection requires a secure connection, but the network's server for training "
            "does not offer one. fedgui did not connect to it and did not send your token."
        )
    return TOKEN_UNENCRYPTED if token else None
