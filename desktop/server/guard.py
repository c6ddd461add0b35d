"""The outermost layer of the service: browser cross-site requests refused, and an access
log that carries no names.

Cross-site: a multipart POST is a "simple" request a browser sends without a preflight,
so any web page open on the kiosk machine could otherwise enroll a face, even on a
loopback-only service without a token. Browsers mark such requests with ``Origin`` (and
``Sec-Fetch-Site``); a request from another origin is refused unless that origin is listed
in ``cors_origins``. On a loopback-only service the ``Host`` header must name the loopback
too, which stops DNS rebinding (a page on evil.example whose name resolves to 127.0.0.1).

Access log: uvicorn's would record the URL, which holds a person's name
(``/people/NAME``); this one records the route template instead, and leaves refused
authentications to the summed log line of ``security.RefusalTally``.
"""
from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from desktop.server.security import is_loopback

log = logging.getLogger("desktop.server.access")

AUTH_REFUSED = (401, 429)
"""Not logged here: ``security.RefusalTally`` logs them, summed per address and minute, so
a flood of wrong tokens cannot fill the log."""

CROSS_SITE = ("cross-site", "same-site")
"""Sec-Fetch-Site values of a request made by a page of another origin."""


def host_name(host_header: str) -> str:
    """'127.0.0.1:8000' -> '127.0.0.1', '[::1]:8000' -> '::1'."""
    return urlsplit(f"//{host_header}").hostname or ""


class BrowserGuard:
    """ASGI middleware: Host and Origin checks, then a name-free access log line."""

    def __init__(self, app: ASGIApp, *, allowed_origins: tuple[str, ...],
                 loopback_only: bool) -> None:
        self.app = app
        self.allowed_origins = {o.rstrip("/").lower() for o in allowed_origins}
        self.loopback_only = loopback_only

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if self.loopback_only and not is_loopback(host_name(host)):
            return 421, (f"this service only answers requests addressed to this machine "
                         f"(localhost, 127.0.0.1, [::1]), not {host!r}")
        origin = headers.get("origin")
        if origin is not None:
            if origin.rstrip("/").lower() in self.allowed_origins:
                return None
            if origin.lower() in (f"http://{host}".lower(), f"https://{host}".lower()):
                return None  # same origin: the service's own /docs page
            return 403, (f"cross-site request from {origin} refused: add the origin to the "
                         f"cors_origins setting to allow it")
        if headers.get("sec-fetch-site", "").lower() in CROSS_SITE and \
                scope["method"] not in ("GET", "HEAD"):
            return 403, "cross-site request refused"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [0]

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        refused = self.refusal(scope)
        try:
            if refused:
                await _json(send_logged, *refused)
            else:
                await self.app(scope, receive, send_logged)
        finally:
            if status[0] not in AUTH_REFUSED:
                route = getattr(scope.get("route"), "path", None) or (
                    "(refused)" if refused else "(no route)")
                client = scope.get("client") or ("-", 0)
                log.info("%s %s %s -> %d in %.0f ms", client[0], scope["method"], route,
                         status[0], (time.perf_counter() - started) * 1000)


async def _json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
