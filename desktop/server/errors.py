"""Map every failure to a JSON ``{"detail": "..."}`` a person can act on.

User mistakes (KioskError) are 4xx with the engine's own message. A database that is
locked or a disk that is full is not the caller's fault, so DatabaseError is 503 (retry);
so is a shared store that is offline, with Retry-After (recognition still answers).
Anything else is a bug: 500 with a pointer to the log, never a traceback to the client.
"""
from __future__ import annotations

import logging
import traceback

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from desktop.engine import (
    DatabaseError,
    DuplicateFaceError,
    FaceCountError,
    ImageError,
    KioskError,
    ModelMismatchError,
    StoreOfflineError,
    UnknownFaceError,
    UnknownPersonError,
    WeightsUnavailableError,
)

log = logging.getLogger("desktop.server")

STATUS: list[tuple[type[KioskError], int]] = [
    (DuplicateFaceError, 409),
    (ModelMismatchError, 409),
    (UnknownPersonError, 404),
    (UnknownFaceError, 404),
    (ImageError, 422),
    (FaceCountError, 422),
    (StoreOfflineError, 503),
    (DatabaseError, 503),
    (WeightsUnavailableError, 503),
]
"""First match wins; any other KioskError is 400."""
RETRY_AFTER_S = 5
"""A shared store that dropped out is retried by the kiosk within seconds."""


def route_of(request: Request) -> str:
    """The route template (/people/{name}), never the URL, which holds the name."""
    return getattr(request.scope.get("route"), "path", None) or "(no route)"


def status_of(exc: KioskError) -> int:
    return next((code for cls, code in STATUS if isinstance(exc, cls)), 400)


async def kiosk_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KioskError)
    code = status_of(exc)
    # the message may name a person or a photo file: the log gets the kind of error only
    log.log(logging.WARNING if code >= 500 else logging.INFO, "%s %s -> %d: %s",
            request.method, route_of(request), code, type(exc).__name__)
    body: dict[str, object] = {"detail": str(exc)}
    if isinstance(exc, DuplicateFaceError):
        body.update(other=exc.other, similarity=round(exc.similarity, 4),
                    hint="repeat the request with ?force=true to enroll anyway")
    headers = {"Retry-After": str(RETRY_AFTER_S)} if isinstance(exc, StoreOfflineError) else None
    return JSONResponse(body, status_code=code, headers=headers)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 lists dicts; say the same in one sentence."""
    assert isinstance(exc, RequestValidationError)
    parts = []
    for error in exc.errors():
        where, *rest = [str(p) for p in error.get("loc", ("request",))]
        name = ".".join(rest) or where
        if where == "body" and error.get("type") == "missing":
            parts.append(f"missing upload field {name!r} (multipart/form-data)")
        else:
            parts.append(f"{where} field {name!r}: {error.get('msg', 'invalid')}")
    detail = "; ".join(parts) or "invalid request"
    log.info("%s %s -> 422: %s", request.method, route_of(request), detail)
    return JSONResponse({"detail": detail}, status_code=422)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    where = "".join(traceback.format_tb(exc.__traceback__))  # no message: it may hold names
    log.error("%s %s failed: %s\n%s", request.method, route_of(request),
              type(exc).__name__, where)
    return JSONResponse({"detail": "internal error; the server log has the details"},
                        status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(KioskError, kiosk_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)
