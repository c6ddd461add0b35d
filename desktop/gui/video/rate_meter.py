"""Events per second over a sliding window (preview fps, recognition rate)."""
from __future__ import annotations

import time
from collections import deque


class RateMeter:
    def __init__(self, window_seconds: float = 2.0) -> None:
        self.window = window_seconds
        self._times: deque[float] = deque()

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._times.append(now)
        while self._times and now - self._times[0] > self.window:
            self._times.popleft()

    def rate(self, now: float | None = None) -> float:
        """Events per second; 0 when fewer than two events are in the window or it is stale."""
        now = time.monotonic() if now is None else now
        while self._times and now - self._times[0] > self.window:
            self._times.popleft()
        if len(self._times) < 2:
            return 0.0
        return (len(self._times) - 1) / max(self._times[-1] - self._times[0], 1e-6)

    def clear(self) -> None:
        self._times.clear()
