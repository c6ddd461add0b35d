"""Who may call the service: loopback-only by default, a bearer token for anything else."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable

from fastapi import HTTPException, Request

from desktop.engine import KioskError, Settings

log = logging.getLogger("desktop.server")

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach. Unknown host names count as public."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def configured_token(settings: Settings) -> str | None:
    """The bearer token, or None; a blank --token or $FACE_KIOSK_TOKEN is no token."""
    token = (settings.api_token or "").strip()
    return token or None


def check_bind(settings: Settings) -> None:
    """Refuse to put the gallery on a network without a token (faces are biometric data)."""
    if is_loopback(settings.host) or configured_token(settings):
        return
    raise KioskError(
        f"refusing to serve on {settings.host}, which other machines can reach, without an "
        f"API token: set one with --token or $FACE_KIOSK_TOKEN, or bind 127.0.0.1")


def token_matches(header_value: str, token: str) -> bool:
    """Constant-time check of a bearer token, whatever encoding the client sent it in.

    HTTP headers are bytes; Starlette decodes them as latin-1, so ``encode("latin-1")``
    gives back exactly what was sent. A UTF-8 client (curl, browsers) and a latin-1 one
    both match. Digests are compared, so the time does not even depend on the length.
    """
    sent = hashlib.sha256(header_value.strip().encode("latin-1", "replace")).digest()
    matched = False
    for encoding in ("utf-8", "latin-1"):
        try:
            wanted = hashlib.sha256(token.encode(encoding)).digest()
        except UnicodeEncodeError:
            continue
        matched |= hmac.compare_digest(sent, wanted)
    return matched


class RefusalTally:
    """Refused authentications summed per client address and window, so a flood costs a
    bounded number of audit rows and log lines: the first refusal of an address in a
    window is reported at once (count 1), the rest of that window are counted and reported
    as one sum with the address's next refusal after the window, or by ``flush``."""

    def __init__(self, window: float, report: Callable[[str, str, int], None]) -> None:
        self.window = window
        self.report = report
        self._open: dict[str, tuple[float, int, str]] = {}
        """address -> (window start, refusals not yet reported, last reason)"""
        self._lock = threading.Lock()

    def add(self, client: str, reason: str) -> None:
        now = time.monotonic()
        with self._lock:
            start, unreported, _ = self._open.get(client, (-math.inf, 0, reason))
            if now - start < self.window:
                self._open[client] = (start, unreported + 1, reason)
                return
            self._open[client] = (now, 0, reason)
            stale = self._expire(now) if len(self._open) > 10_000 else []
        for address, count, why in [(client, unreported + 1, reason), *stale]:
            self.report(address, why, count)

    def _expire(self, now: float) -> list[tuple[str, int, str]]:
        """Forget addresses whose window is over (bounds memory); their sums to report."""
        over = [k for k, (start, _, _) in self._open.items() if now - start >= self.window]
        sums = [(k, self._open[k][1], self._open[k][2]) for k in over if self._open[k][1]]
        for key in over:
            del self._open[key]
        return sums

    def flush(self) -> None:
        """Report every counted refusal now (at shutdown)."""
        with self._lock:
            sums = [(k, n, why) for k, (_, n, why) in self._open.items() if n]
            self._open.clear()
        for address, count, why in sums:
            self.report(address, why, count)


class AuthLimiter:
    """Failed token checks per client address in a sliding minute; over the limit: 429.

    Only failures are limited: a request with the right token always passes, so a flood
    from a shared address (a NAT, the kiosk's own proxy) does not lock out the owner.
    ``on_failure`` (the audit trail's hook) receives (address, reason, count) through a
    ``RefusalTally``: one call per address per minute however many requests were refused,
    limited ones included; the log line follows the same rule.
    """

    WINDOW = 60.0

    def __init__(self, per_minute: int,
                 on_failure: Callable[[str, str, int], None] | None = None) -> None:
        self.per_minute = max(1, per_minute)
        self.on_failure = on_failure
        self.tally = RefusalTally(self.WINDOW, self._report)
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failures.setdefault(client, deque())
        while times and now - times[0] > self.WINDOW:
            times.popleft()
        return times

    def check(self, client: str) -> None:
        """429 while ``client`` is over its failures of the last minute."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(client, now)
            if len(times) < self.per_minute:
                return
            wait = max(1, math.ceil(self.WINDOW - (now - times[0])))
        self.tally.add(client, "rate limited")
        raise HTTPException(429, f"too many failed authentications from {client}; retry in "
                                 f"{wait} s", headers={"Retry-After": str(wait)})

    def failed(self, client: str, reason: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent(client, now).append(now)
            if len(self._failures) > 10_000:  # forget idle addresses, bound memory
                for key in [k for k, v in self._failures.items() if not v]:
                    del self._failures[key]
        self.tally.add(client, reason)

    def _report(self, client: str, reason: str, count: int) -> None:
        log.info("refused authentication from %s: %s (%d in this minute)", client, reason,
                 count)
        if self.on_failure:
            self.on_failure(client, reason, count)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def authorize(request: Request, token: str | None, limiter: AuthLimiter | None = None) -> None:
    """401 unless the request carries ``Authorization: Bearer <token>``; a wrong or missing
    token from a client that failed too often in the last minute gets 429 instead. The
    right token is checked first and always passes: the lockout stops floods of failures,
    not the token's owner. The price: the lockout no longer slows guessing (a right guess
    passes during it), which a long random token makes hopeless anyway."""
    if token is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token_matches(given, token):
        return
    client = client_address(request)
    if limiter:
        limiter.check(client)
        limiter.failed(client, "no token" if not given else "wrong token")
    raise HTTPException(401, "missing or wrong API token: send 'Authorization: Bearer "
                             "<token>'", headers={"WWW-Authenticate": "Bearer"})
