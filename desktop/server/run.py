"""``python main.py serve``: bind safely, build the engine once, run uvicorn."""
from __future__ import annotations

import logging
import socket
import sys
from typing import Any

import uvicorn

from desktop.engine import KioskError, Settings
from desktop.server.security import check_bind, configured_token

log = logging.getLogger("desktop.server")


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the models load so a busy port fails fast."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise KioskError(f"cannot listen on {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise KioskError(f"cannot listen on {host}:{port}: {exc.strerror}; is another "
                         f"service using it? Choose another with --port") from None
    return sock


def uvicorn_config(app: Any) -> uvicorn.Config:
    """uvicorn without its access log (it records URLs, which hold names; BrowserGuard
    logs route templates instead) and without its logging setup (ours has the file)."""
    return uvicorn.Config(app, log_config=None, access_log=False, server_header=False,
                          timeout_graceful_shutdown=10)


def serve(settings: Settings) -> None:
    """Serve ``settings.db_dir`` until Ctrl+C; refuses a public address without a token."""
    check_bind(settings)
    sock = bind(settings.host, settings.port)
    from desktop.engine import FaceEngine  # torch: only once the checks passed
    from desktop.server.app import create_app
    try:
        engine = FaceEngine(settings, frontend="http")
        engine.start_retention()
    except BaseException:
        sock.close()
        raise
    try:
        app = create_app(engine, settings)
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        auth = "token required" if configured_token(settings) else "no token (loopback only)"
        from desktop.engine import describe
        log.info("Serving %s on http://%s:%d (%s)", describe(engine.db), shown, port, auth)
        print(f"Serving {describe(engine.db)} on http://{shown}:{port}  (API docs at /docs; "
              f"{auth}; Ctrl+C stops)", file=sys.stderr, flush=True)
        config = uvicorn_config(app)
        try:
            uvicorn.Server(config).run(sockets=[sock])
        finally:
            app.state.auth_limiter.tally.flush()  # the last minute's refusal counts
    finally:
        sock.close()
        engine.close()
