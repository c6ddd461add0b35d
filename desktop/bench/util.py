"""Small measuring helpers shared by the bench sections: medians, RSS, progress, threads."""
from __future__ import annotations

import contextlib
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def median_ms(func: Callable[[], T], runs: int, warmup: int = 1) -> tuple[float, T]:
    """Median wall time of ``func`` in ms over ``runs`` calls, after ``warmup`` untimed calls.

    The median (not the mean) because other processes share the two cores: one preempted
    run must not move the figure.
    """
    result = None
    for _ in range(warmup):
        result = func()
    times = []
    for _ in range(max(1, runs)):
        started = time.perf_counter()
        result = func()
        times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times), result  # type: ignore[return-value]


def median(values: Iterable[float]) -> float:
    data = [v for v in values if v is not None]
    return statistics.median(data) if data else float("nan")


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no data."""
    data = sorted(v for v in values if v is not None)
    if not data:
        return float("nan")
    rank = min(len(data) - 1, max(0, round(q / 100.0 * (len(data) - 1))))
    return data[rank]


def _status_kb(field: str) -> float:
    """A VmXXX line of /proc/self/status in kB (psutil is not a dependency)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    return float("nan")


def rss_mb() -> float:
    """Resident set size of this process now, in MiB."""
    return _status_kb("VmRSS") / 1024.0


def peak_rss_mb() -> float:
    """High-water mark of the resident set size, in MiB."""
    return _status_kb("VmHWM") / 1024.0


def progress(iterable: Iterable[T] | None = None, *, total: int | None = None,
             desc: str = "", unit: str = "it") -> Any:
    """A tqdm bar on stderr; silent when stderr is not a terminal (logs, CI, pytest)."""
    from tqdm import tqdm
    return tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
                disable=None, dynamic_ncols=True)


@contextlib.contextmanager
def torch_threads(models: Any, count: int | None) -> Iterator[int]:
    """Run a block with ``count`` intra-op torch threads (0/None: leave as is), then restore.

    Set on the engine's inference thread: with libgomp the thread count (and the OpenMP
    team) belongs to the calling thread, so setting it here would change nothing there.
    """
    import torch
    before = models.run(torch.get_num_threads)
    if count:
        models.run(torch.set_num_threads, count)
    try:
        yield models.run(torch.get_num_threads)
    finally:
        models.run(torch.set_num_threads, before)


def inference_threads(models: Any) -> int:
    """Intra-op torch threads of the inference thread (asked there, not here)."""
    import torch
    return models.run(torch.get_num_threads)


def cpu_snapshot() -> tuple[float, float, float]:
    """(busy, total) jiffies of the whole machine and this process's own (+ waited children).

    Two snapshots tell how much of the machine *other* processes used in between: the
    noise behind a figure on a shared two-core box.
    """
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [float(v) for v in handle.readline().split()[1:]]
        with open("/proc/self/stat", encoding="ascii") as handle:
            mine = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan"), float("nan"), float("nan")
    idle = fields[3] + fields[4]
    busy = sum(fields[:8]) - idle
    own = sum(float(v) for v in mine[11:15])  # utime, stime, cutime, cstime
    return busy, busy + idle, own


def others_share(before: tuple[float, float, float], after: tuple[float, float, float]) -> float:
    """Share (0..1) of all CPU time between two snapshots used by other processes."""
    total = after[1] - before[1]
    if not total or total != total:
        return float("nan")
    return max(0.0, (after[0] - before[0]) - (after[2] - before[2])) / total


def in_thread(func: Callable[..., T], *args: Any, name: str = "bench-worker") -> T:
    """Run ``func`` on a fresh thread and return its result (exceptions propagate).

    Faiss and PyTorch share libgomp, whose OpenMP team belongs to the calling thread; a
    Faiss search on a thread that is not the engine's inference thread leaves a second
    team that slows every later inference ~2-3x until that thread exits. So every part of
    the bench that searches runs on a thread that ends with it, like the window's
    recognition thread, and cannot skew the sections after it.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = func(*args)
        except BaseException as exc:  # re-raised in the caller
            box["error"] = exc

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


@contextlib.contextmanager
def busy_process(count: int = 1) -> Iterator[list[Any]]:
    """``count`` other processes that each keep one core busy (a pure-Python spin loop:
    another program on the kiosk's machine), stopped and reaped when the block ends."""
    import subprocess
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(count)]
    try:
        time.sleep(0.3)  # let them start spinning
        yield spinners
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def process_cpu_seconds() -> float:
    """CPU time (user + system) this process used so far, all threads included."""
    import os
    times = os.times()
    return times.user + times.system
