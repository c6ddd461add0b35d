"""One background worker for long one-off jobs, with results handed back on the GUI thread.

The pattern Anki's TaskManager uses: run ``fn`` on a worker thread, then call ``on_done``
(or ``on_error``) on the GUI thread through a queued signal, so callbacks may touch widgets.
A single worker keeps jobs in order (enroll, then refresh) and, on two cores, avoids
running two inferences at once.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PyQt5.QtCore import QObject, pyqtSignal

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside a job (from its progress callback) when the user pressed Cancel."""


class TaskRunner(QObject):
    _call_on_main = pyqtSignal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-task")
        self._pending = 0
        self._lock = threading.Lock()
        self._stopped = False
        self._call_on_main.connect(self._call)

    def _call(self, fn: Callable[[], Any]) -> None:
        if not self._stopped:  # after shutdown the widgets and database may be gone
            fn()

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._pending > 0

    def on_main(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on the GUI thread soon (safe to call from any thread)."""
        self._call_on_main.emit(fn)

    def run(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None) -> Future:
        """Run ``fn()`` in the background; ``on_done(result)`` or ``on_error(exc)`` follow
        on the GUI thread. Without ``on_error`` an exception is logged."""
        with self._lock:
            self._pending += 1

        def deliver(future: Future) -> None:
            with self._lock:
                self._pending -= 1
            exc = future.exception()
            if exc is None:
                if on_done is not None:
                    on_done(future.result())
            elif on_error is not None:
                on_error(exc)
            else:
                log.error("Background task failed", exc_info=exc)

        future = self._pool.submit(fn)
        future.add_done_callback(lambda f: self.on_main(lambda: deliver(f)))
        return future

    def shutdown(self) -> None:
        """Wait for the running job, stop the worker, and drop results not yet delivered."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._stopped = True
