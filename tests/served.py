"""``python main.py serve`` in a child process, for the tests that need the real service
(memory, kill -9, a store that is down at boot): started on a free port, waited for, and
always stopped."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import httpx
from conftest import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Served:
    url: str
    proc: subprocess.Popen
    log: IO[str]

    def stderr(self) -> str:
        """The end of what the service wrote to stderr."""
        self.log.seek(0)
        return self.log.read()[-2000:]

    def alive(self) -> None:
        assert self.proc.poll() is None, f"serve exited: {self.stderr()}"


@contextmanager
def serving(db: str, weights: str, *, env: dict[str, str] | None = None,
            timeout: float = 300) -> Iterator[Served]:
    """``serve --db db`` once /health answers (any status: a store
    that is down answers "degraded"); the process is stopped on the way out."""
    port = free_port()
    log = tempfile.TemporaryFile("w+")  # a pipe nobody reads could fill and block serve
    proc = subprocess.Popen([sys.executable, "main.py", "serve", "--db", db, "--weights",
                             weights, "--port", str(port)], cwd=ROOT,
                            env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=log, text=True)
    served = Served(f"http://127.0.0.1:{port}", proc, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            served.alive()
            assert time.monotonic() < deadline, f"serve did not come up in {timeout:.0f} s"
            try:
                httpx.get(f"{served.url}/health", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        yield served
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()

