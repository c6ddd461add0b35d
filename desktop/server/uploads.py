"""Photo uploads: size and type checked before and while the body is read, then decoded.

Every route of the API goes through ``GuardedRoute``, which authorises the caller and caps
the request body *before* FastAPI parses it: a Content-Length over the cap is refused
unread, and a body without one (chunked) is cut off as soon as it passes the cap. The cap
is ``max_upload_mb`` per photo the route accepts (declared with ``photos(n)``) plus room
for the multipart headers, so nothing unbounded is spooled to memory or disk.
"""
from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi import HTTPException, Request, Response, UploadFile
from fastapi.routing import APIRoute
from starlette.types import Message, Receive

from desktop.engine import load_image
from desktop.server.security import authorize

MB = 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024
"""Room for boundaries, part headers and small form fields on top of the photos."""
MAX_PHOTOS_KEY = "x-max-photos"
"""OpenAPI extension on upload routes: how many photos one request may carry."""


@dataclass(frozen=True)
class Policy:
    """The per-app limits GuardedRoute enforces (kept on ``app.state.policy``)."""
    token: str | None
    max_photo_bytes: int

    def describe_limit(self) -> str:
        return size_text(self.max_photo_bytes)


def size_text(count: int) -> str:
    """Bytes for people: 10 MB, 40 KB."""
    return f"{count / MB:.3g} MB" if count >= MB else f"{count / 1024:.0f} KB"


def photos(count: int) -> dict[str, int]:
    """``openapi_extra`` for a route taking up to ``count`` photos (documents and sets the cap)."""
    return {MAX_PHOTOS_KEY: count}


def too_large(message: str) -> HTTPException:
    return HTTPException(413, message)


class GuardedRoute(APIRoute):
    """An APIRoute that checks the token, content type and body size before parsing."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        max_photos = int((self.openapi_extra or {}).get(MAX_PHOTOS_KEY, 0))

        async def guarded(request: Request) -> Response:
            policy: Policy = request.app.state.policy
            authorize(request, policy.token, request.app.state.auth_limiter)
            if max_photos:
                require_multipart(request)
            cap = max_photos * policy.max_photo_bytes + MULTIPART_OVERHEAD
            what = (f"at most {max_photos} photo(s) of {policy.describe_limit()} each"
                    if max_photos else "no upload")
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > cap:
                raise too_large(f"request body of {size_text(int(length))} is too large: this "
                                f"endpoint takes {what}")
            capped_request = Request(request.scope, capped(request.receive, cap, what))
            if not max_photos:
                return await handler(capped_request)
            with request.app.state.inference.slot():  # busy: 503 before reading photos
                return await handler(capped_request)
        return guarded


def require_multipart(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "multipart/form-data":
        raise HTTPException(415, f"send photos as multipart/form-data file fields, not "
                                 f"{media or 'a body without a content type'}")


def capped(receive: Receive, cap: int, what: str) -> Receive:
    """``receive`` that fails with 413 once more than ``cap`` body bytes have arrived."""
    received = 0

    async def receive_capped() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > cap:
                raise too_large(f"request body is too large: this endpoint takes {what}")
        return message
    return receive_capped


def read_photo(upload: UploadFile, field: str, policy: Policy) -> np.ndarray:
    """The upload as an RGB array; 415, 413 or ImageError (422) naming the field and file."""
    label = f"{field} ({upload.filename})" if upload.filename else field
    media = (upload.content_type or "").split(";")[0].strip().lower()
    if media and not (media.startswith("image/") or media == "application/octet-stream"):
        raise HTTPException(415, f"{label}: {media} is not an image type; upload a JPEG, "
                                 f"PNG or other photo")
    limit = policy.max_photo_bytes
    if upload.size is not None and upload.size > limit:
        raise too_large(f"{label}: {size_text(upload.size)} is over the "
                        f"{policy.describe_limit()} limit per photo")
    upload.file.seek(0)
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise too_large(f"{label}: over the {policy.describe_limit()} limit per photo")
    return load_image(data, name=label)
