"""Exponential back-off with jitter for reconnects, reset after a healthy connection, cut short
when the server that was down comes back."""

from __future__ import annotations

import random
import socket
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays of ``initial * factor**n`` seconds, capped at ``maximum``, each spread by ±``jitter``.

    Jitter keeps a network's clients from all reconnecting in the same second after a combiner
    restart. :meth:`reset` after a connection proved healthy, so the next break starts small.
    """

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 60.0
    jitter: float = 0.2
    _attempt: int = field(default=0, init=False)
    _rng: random.Random = field(default_factory=random.Random, init=False, repr=False)

    def next_delay(self) -> float:
        base = min(self.maximum, self.initial * self.factor**self._attempt)
        self._attempt += 1
        spread = base * self.jitter
        return max(0.0, base + self._rng.uniform(-spread, spread))

    def reset(self) -> None:
        self._attempt = 0

    @property
    def attempts(self) -> int:
        return self._attempt


def reset_after_healthy(backoff: Backoff, lasted: float | None, healthy_after: float) -> None:
    """A connection that lasted ``healthy_after`` seconds proved the network works: the next
    break starts from the shortest delay again, whether the connection ended cleanly or died of
    an error (a client connected for 15 minutes must not wait 51 s after its first break)."""
    if lasted is not None and lasted >= healthy_after:
        backoff.reset()


class ReturnWatch:
    """Notices a server coming back during a back-off: its TCP port, which refused connections,
    accepts them again. Then the client need not sit out the rest of a long delay.

    Only a port seen closed and then open counts: a port that accepts connections all along (a
    load balancer in front of a broken server) ends no wait early, so it cannot make the client
    hammer a server that answers with errors.
    """

    def __init__(
        self,
        host: str,
        port: int,
        timeout: float = 1.0,
        accepts: Callable[[str, int, float], bool] | None = None,
    ) -> None:
        self.address = (host, port)
        self._timeout = timeout
        self._accepts = accepts or port_accepts
        self._seen_closed = False

    def is_back(self) -> bool:
        if not self._accepts(self.address[0], self.address[1], self._timeout):
            self._seen_closed = True
            return False
        return self._seen_closed


def port_accepts(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
