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


class AuthLimiter:
    """Failed token checks per client address in a sliding minute; over the limit: 429.

    ``on_failure`` is the hook for the audit trail (``storage/audit.py``): it receives the client
    address and the reason of every refused authentication, limited or not.
    """

    WINDOW = 60.0

    def __init__(self, per_minute: int,
                 on_failure: Callable[[str, str], None] | None = None) -> None:
        self.per_minute = max(1, per_minute)
        self.on_failure = on_failure
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
        self._report(client, "rate limited")
        raise HTTPException(429, f"too many failed authentications from {client}; retry in "
                                 f"{wait} s", headers={"Retry-After": str(wait)})

    def failed(self, client: str, reason: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent(client, now).append(now)
            if len(self._failures) > 10_000:  # forget idle addresses, bound memory
                for key in [k for k, v in self._failures.items() if not v]:
                    del self._failures[key]
        self._report(client, reason)

    def _report(self, client: str, reason: str) -> None:
        log.info("refused authentication from %s: %s", client, reason)
        if self.on_failure:
            self.on_failure(client, reason)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def authorize(request: Request, token: str | None, limiter: AuthLimiter | None = None) -> None:
    """401 unless the request carries ``Authorization: Bearer <token>``; 429 for a client
    that failed too often in the last minute (checked before the token, so guessing stops)."""
    if token is None:
        return
    client = client_address(request)
    if limiter:
        limiter.check(client)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token_matches(given, token):
        if limiter:
            limiter.failed(client, "no token" if not given else "wrong token")
        raise HTTPException(401, "missing or wrong API token: send 'Authorization: Bearer "
                                 "<token>'", headers={"WWW-Authenticate": "Bearer"})
