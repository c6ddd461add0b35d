"""HTTP recognition service: the window's engine and gallery behind a small JSON API.

``create_app`` wraps an existing FaceEngine, so tests and tools can share loaded models;
``serve`` builds the engine from Settings and runs uvicorn. Everything that decides who
someone is lives in ``desktop.engine``; this package only translates HTTP to engine calls.
"""
from __future__ import annotations

from .app import create_app
from .run import serve
from .security import check_bind, is_loopback

__all__ = ["create_app", "serve", "check_bind", "is_loopback"]
