"""HTTP recognition service: the window's engine and gallery behind a small JSON API.

``create_app`` wraps an existing FaceEngine, so tests and tools can share loaded models;
``serve`` builds the engine from Settings and runs uvicorn. Everything that decides who
someone is lives in ``desktop.engine``; this package only translates HTTP to engine calls.
"""
from __future__ import annotations

from typing import Any

__all__ = ["create_app", "serve", "check_bind", "is_loopback"]


def __getattr__(name: str) -> Any:
    """Imported on first use: ``serve`` must refuse a bad address before torch loads."""
    if name == "create_app":
        from desktop.server.app import create_app
        return create_app
    if name == "serve":
        from desktop.server.run import serve
        return serve
    if name in ("check_bind", "is_loopback"):
        from desktop.server import security
        return getattr(security, name)
    raise AttributeError(name)
