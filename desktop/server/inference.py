"""Model work for HTTP requests: one hand-off per request, a bounded queue, and no work for
clients that have gone.

The models run on one inference thread (see ``Models``). A request's whole engine call
(``identify``, ``verify``, ``enroll``) is handed to that thread at once, so its nested model
calls run inline instead of queueing behind other requests between steps. Endpoints await
the result without holding a worker thread, so ``/health`` and the read-only endpoints
never wait for a thread behind inference. A photo request takes a place in the queue
before its upload is read; beyond ``limit`` places it is refused at once with 503 and a
Retry-After estimated from recent job times. A queued job whose client disconnects is
cancelled before it starts.
"""
from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import HTTPException, Request

if TYPE_CHECKING:
    from desktop.engine import Models

log = logging.getLogger("desktop.server")
T = TypeVar("T")

CLIENT_GONE = 499
"""Status recorded for a request whose client disconnected (nginx's convention); nobody
receives it."""


class ClientGone(HTTPException):
    def __init__(self) -> None:
        super().__init__(CLIENT_GONE, "client closed the connection")


class InferenceQueue:
    """Admission control in front of ``Models``' single inference thread."""

    def __init__(self, models: Models, limit: int) -> None:
        self._models = models
        self.limit = max(1, limit)
        self._pending = 0
        self._lock = threading.Lock()
        self._job_seconds = 0.5
        """Moving average of one job's time on the inference thread, for Retry-After."""
        self.dropped = 0
        """Jobs cancelled because their client had gone (for tests and the log)."""

    @property
    def pending(self) -> int:
        return self._pending

    def busy_error(self) -> HTTPException:
        wait = max(1, math.ceil(self._pending * self._job_seconds))
        return HTTPException(503, f"the service is busy ({self._pending} photo request(s) "
                                  f"queued); retry in {wait} s",
                             headers={"Retry-After": str(wait)})

    @contextmanager
    def slot(self) -> Iterator[None]:
        """A place in the queue for one request, taken before its photos are read or
        decoded (so a burst costs nothing beyond ``limit`` requests), or 503 at once."""
        with self._lock:
            if self._pending >= self.limit:
                raise self.busy_error()
            self._pending += 1
        try:
            yield
        finally:
            with self._lock:
                self._pending -= 1

    async def run(self, request: Request, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` on the inference thread, awaited; ClientGone if the client left
        before it started. Call it inside ``slot()`` (GuardedRoute does, for photo routes)."""
        future: Future[T] = self._models.submit(self._timed, func, *args)
        result = asyncio.wrap_future(future)
        gone = asyncio.ensure_future(_disconnected(request))
        try:
            waiting: set[asyncio.Future[Any]] = {result, gone}
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if not result.done() and future.cancel():
                self.dropped += 1
                log.info("%s %s: client gone, queued work dropped", request.method,
                         _route(request))
                raise ClientGone()
            return await result  # running already: finishes, then the answer is dropped
        finally:
            gone.cancel()

    def _timed(self, func: Callable[..., T], *args: Any) -> T:
        started = time.perf_counter()
        try:
            return func(*args)
        finally:
            self._job_seconds = 0.8 * self._job_seconds + 0.2 * (time.perf_counter() - started)


async def _disconnected(request: Request) -> None:
    """Returns when the client disconnects. The body has been read by then, so the next
    ASGI message can only be the disconnect."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", "?")
