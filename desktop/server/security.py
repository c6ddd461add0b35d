"""Who may call the service: loopback-only by default, a bearer token for anything else."""
from __future__ import annotations

import hmac
import ipaddress

from fastapi import HTTPException, Request

from ..config import Settings
from ..engine.errors import KioskError

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


def authorize(request: Request, token: str | None) -> None:
    """401 unless the request carries ``Authorization: Bearer <token>`` (constant-time check)."""
    if token is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                             token.encode()):
        raise HTTPException(401, "missing or wrong API token: send 'Authorization: Bearer "
                                 "<token>'", headers={"WWW-Authenticate": "Bearer"})
