"""Controller address normalisation: one canonical ``scheme://host[:port][/prefix]`` form.

FEDn's own client glues ``api_url``, ``api_port`` and ``FEDN_CUSTOM_URL_PREFIX`` together in ways
that produce ``//`` or drop the prefix. We build one base URL and append ``/api/v1/...`` to it,
so no request ever carries a double slash.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fedgui.core.controller.errors import WrongAddress

# FEDn's client uses plain http for these hosts and https for everything else.
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# Pasted API URLs ("http://host:8092/api/v1/") still mean the controller at that host.
_API_SUFFIX = ("api", "v1")


def default_scheme(host: str) -> str:
    return "http" if host.lower() in _LOCAL_HOSTS else "https"


def normalize_controller_url(url: str, port: int | str | None = None, prefix: str = "") -> str:
    """``"host"``, ``"host:8092"``, ``"https://h/p/"`` … -> ``"scheme://host[:port][/prefix]"``.

    ``port`` and ``prefix`` (FEDn's ``api_port`` / ``FEDN_CUSTOM_URL_PREFIX``) are added when given;
    an explicit ``port`` wins over one in ``url``. Raises :class:`WrongAddress` for an address that
    cannot name a controller.
    """
    text = (url or "").strip()
    if not text:
        raise WrongAddress(
            "No controller address was given.", "Enter the address your project admin gave you."
        )
    if "://" not in text:
        host_guess = urlsplit(f"//{text}").hostname or ""
        text = f"{default_scheme(host_guess)}://{text}"
    try:
        parts = urlsplit(text)
        url_port = parts.port
    except ValueError as exc:
        raise _bad_address(url, f"it has an invalid port ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _bad_address(url, f"it starts with {scheme}:// instead of http:// or https://")
    host = parts.hostname
    if not host:
        raise _bad_address(url, "it has no host name")
    chosen_port = _valid_port(url, port) if port not in (None, "") else url_port
    netloc = f"[{host}]" if ":" in host else host
    if chosen_port is not None:
        netloc = f"{netloc}:{chosen_port}"
    segments = [s for s in f"{parts.path}/{prefix or ''}".split("/") if s]
    if tuple(segments[-2:]) == _API_SUFFIX:
        segments = segments[:-2]
    path = "/" + "/".join(segments) if segments else ""
    return f"{scheme}://{netloc}{path}"


def _valid_port(url: str, port: int | str) -> int:
    try:
        number = int(port)
    except (TypeError, ValueError):
        raise _bad_address(url, f"the port {port!r} is not a number") from None
    if not 0 < number < 65536:
        raise _bad_address(url, f"the port {number} is outside 1-65535")
    return number


def _bad_address(url: str, why: str) -> WrongAddress:
    return WrongAddress(
        f"The controller address {url!r} cannot be used: {why}.",
        "Check the address your project admin gave you, e.g. https://controller.example.org or "
        "http://localhost:8092.",
    )
