"""The FastAPI application: one thin endpoint per engine call.

Endpoints are plain ``def`` functions, so FastAPI runs them in its thread pool and the
event loop stays free to accept (and reject) requests while a photo is processed. Uploads
are decoded in those threads; the engine hands model work to its single inference thread
(see ``Models`` for why). Gallery and attendance reads are thread-safe.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import (APIRouter, FastAPI, File, HTTPException, Query, Request, Security,
                     UploadFile)
from fastapi.security import HTTPBearer

from ..config import Settings
from ..engine.attendance import DayRow, day_of, parse_day
from ..engine.consent import Consent
from ..engine.errors import KioskError
from ..engine.gallery import Person
from . import errors
from .security import configured_token
from .uploads import MB, GuardedRoute, Policy, photos, read_photo

if TYPE_CHECKING:
    from ..engine.recognizer import FaceEngine

log = logging.getLogger("desktop.server")


def actor(request: Request) -> str:
    """The audit trail's front end: the client's address."""
    return f"http {request.client.host if request.client else 'unknown'}"

MAX_ENROLL_PHOTOS = 10
"""Photos per enrollment request; with max_upload_mb this bounds the request body."""

DESCRIPTION = """\
Recognition over the kiosk's own gallery database and engine (the same people, threshold
and attendance the window uses). Upload photos as `multipart/form-data` file fields.
When the service has an API token, every endpoint except `/health` needs
`Authorization: Bearer <token>`. Errors are JSON `{"detail": "..."}`.
"""


def iso(ts: float) -> str:
    """Local time with its UTC offset: readable, and unambiguous for other machines."""
    return dt.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def person_json(person: Person) -> dict[str, Any]:
    return {"name": person.name, "samples": person.samples, "created_at": iso(person.created_at)}


def day_json(row: DayRow) -> dict[str, Any]:
    return {"day": row.day, "name": row.name, "first_in": iso(row.first_in),
            "last_seen": iso(row.last_seen), "checkins": row.checkins}


def create_app(engine: FaceEngine, settings: Settings) -> FastAPI:
    """The API over ``engine``; ``settings`` gives the token and upload limit.

    The engine is borrowed, not owned: whoever built it closes it.
    """
    token = configured_token(settings)
    policy = Policy(token=token, max_photo_bytes=int(settings.max_upload_mb * MB))
    app = FastAPI(title="Face kiosk recognition service", version="1.0",
                  description=DESCRIPTION)
    app.state.policy = policy
    app.state.engine = engine
    errors.install(app)
    # GuardedRoute enforces the token before the body is read; this dependency only
    # declares the scheme, so /docs shows the lock and offers an Authorize button.
    declared = [Security(HTTPBearer(auto_error=False, description="the service's API token"))]
    api = APIRouter(route_class=GuardedRoute, dependencies=declared if token else [])

    @app.get("/health", tags=["service"], summary="Liveness and what is loaded (no token)")
    def health() -> dict[str, Any]:
        engine.gallery.refresh()  # count people enrolled by the window too
        return {"status": "ok", "model": engine.models.embedder.info.name,
                "device": str(engine.models.embedder.device), "people": engine.gallery.size,
                "threshold": engine.threshold}

    # ------------------------------------------------------------------ recognition
    @api.post("/recognize", tags=["recognition"], openapi_extra=photos(1),
              summary="Name every face in a photo (unknown faces have name null)")
    def recognize(image: Annotated[UploadFile, File(description="a photo")]) -> dict[str, Any]:
        rgb = read_photo(image, "image", policy)
        started = time.perf_counter()
        faces = engine.identify(rgb)
        log.debug("recognize: %d face(s) in %.0f ms", len(faces),
                  (time.perf_counter() - started) * 1000)
        return {"faces": [face.to_json() for face in faces]}

    @api.post("/verify", tags=["recognition"], openapi_extra=photos(2),
              summary="1:1: is the main face of two photos the same person?")
    def verify(image_a: Annotated[UploadFile, File(description="first photo")],
               image_b: Annotated[UploadFile, File(description="second photo")]
               ) -> dict[str, Any]:
        a = read_photo(image_a, "image_a", policy)
        b = read_photo(image_b, "image_b", policy)
        return engine.verify(a, b).to_json()

    # ------------------------------------------------------------------ gallery
    @api.get("/people", tags=["gallery"], summary="Enrolled people")
    def people() -> dict[str, Any]:
        return {"people": [person_json(p) for p in engine.gallery.people()]}

    @api.post("/people/{name}/faces", tags=["gallery"], status_code=201,
              openapi_extra=photos(MAX_ENROLL_PHOTOS),
              summary="Enroll photos of a person (new or existing); 409 if the face is "
                      "already someone else's, unless force=true")
    def enroll(name: str, request: Request,
               images: Annotated[list[UploadFile], File(description="one or more photos of "
                                                        "this person alone")],
               force: bool = False,
               consent: Annotated[bool, Query(description="the person agreed to the "
                                              "service's consent text")] = False,
               consent_by: Annotated[str | None, Query(
                   description="who consented, if not the person")] = None) -> dict[str, Any]:
        if len(images) > MAX_ENROLL_PHOTOS:
            raise HTTPException(413, f"{len(images)} photos in one request; send at most "
                                     f"{MAX_ENROLL_PHOTOS}")
        decoded = [(f"upload:{upload.filename or i + 1}",
                    read_photo(upload, f"images[{i}]", policy))
                   for i, upload in enumerate(images)]
        given = (Consent(settings.consent_text, *([consent_by] if consent_by else []))
                 if consent else None)
        report = engine.enroll(name, decoded, force=force, consent=given,
                               actor=actor(request))
        assert report.person is not None  # enroll raises when nothing was added
        log.info("Enrolled %d photo(s) of %s over HTTP (%d skipped)", report.added,
                 report.person.name, len(report.skipped))
        return {"person": person_json(report.person), "added": report.added,
                "skipped": [{"photo": source, "reason": reason}
                            for source, reason in report.skipped]}

    @api.delete("/people/{name}", tags=["gallery"],
                summary="Delete a person with every face sample, crop and index entry")
    def delete(name: str, request: Request,
               keep_attendance: Annotated[bool | None, Query(
                   description="keep their check-in names and times (default: the "
                               "setting delete_attendance_with_person)")] = None
               ) -> dict[str, Any]:
        report = engine.delete(name, keep_attendance=keep_attendance, actor=actor(request))
        log.info("Deleted %s over HTTP", report.name)
        return {"name": report.name, "samples": report.samples, "checkins": report.checkins,
                "presence_days": report.presence_days,
                "kept_attendance": report.kept_attendance}

    # ------------------------------------------------------------------ attendance
    @api.get("/attendance/today", tags=["attendance"], summary="Who checked in today")
    def attendance_today() -> dict[str, Any]:
        today = day_of(time.time())
        return {"day": today, "rows": [day_json(r) for r in engine.attendance.day(today)]}

    @api.get("/attendance", tags=["attendance"],
             summary="Per day and person: first in, last seen, check-ins")
    def attendance_between(
            first: Annotated[str | None, Query(alias="from", description="YYYY-MM-DD, "
                                               "default today")] = None,
            last: Annotated[str | None, Query(alias="to", description="YYYY-MM-DD, "
                                              "default the from day")] = None
    ) -> dict[str, Any]:
        first = first or day_of(time.time())
        last = last or first
        if parse_day(first) > parse_day(last):
            raise KioskError(f"from {first} is after to {last}")
        return {"from": first, "to": last,
                "rows": [day_json(r) for r in engine.attendance.between(first, last)]}

    @api.get("/attendance/visitors", tags=["attendance"],
             summary="How many unknown visitors the window counted on a day")
    def visitors(day: Annotated[str | None, Query(description="YYYY-MM-DD, default today")]
                 = None) -> dict[str, Any]:
        day = day or day_of(time.time())
        parse_day(day)
        return {"day": day, "visitors": engine.attendance.visitors(day)}

    app.include_router(api)
    return app
