"""The FastAPI application: one thin endpoint per engine call.

Photo endpoints are ``async``: uploads are decoded in the worker thread pool, and the
request's whole engine call is one job for the single inference thread (see
``inference.py``), awaited without holding a worker thread. So ``/health`` and the
read-only endpoints (plain ``def``, run in the pool) never wait behind model work, and a
burst beyond ``max_queued_requests`` gets 503 with Retry-After instead of a long queue.
Nothing logged here carries a person's name: ids, counts and route templates only.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, FastAPI, File, HTTPException, Query, Request, Security, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.security import HTTPBearer

from desktop.engine import Consent, DayRow, Person, Settings, check_mode, day_of, day_range, parse_day
from desktop.engine.facade.person_faces import delete_face, person_faces
from desktop.engine.storage import audit
from desktop.server import docs, errors
from desktop.server.guard import BrowserGuard
from desktop.server.inference import InferenceQueue
from desktop.server.security import AuthLimiter, client_address, configured_token, is_loopback
from desktop.server.uploads import MB, GuardedRoute, Policy, photos, read_photo

if TYPE_CHECKING:
    from desktop.engine import FaceEngine

log = logging.getLogger("desktop.server")


def actor(request: Request) -> str:
    """The audit trail's front end: the client's address."""
    return f"http {client_address(request)}"


def _audit_refused(engine: FaceEngine, client: str, reason: str, count: int) -> None:
    """AuthLimiter's hook: refused authentications go into the audit trail (the client
    address and how many). A failed audit write is logged, never turned into a 500."""
    try:
        audit.refused_auth(engine.db, client, reason, count)
    except Exception as exc:  # noqa: BLE001 - the 401/429 must still be answered
        log.warning("Refused authentication not audited: %s", exc)


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
            "last_seen": iso(row.last_seen), "checkins": row.checkins, "kiosks": row.kiosks}


FromDay = Annotated[str | None, Query(alias="from", description="YYYY-MM-DD, default today")]
ToDay = Annotated[str | None, Query(alias="to", description="YYYY-MM-DD, default the from day")]
"""The day range of the attendance and traffic queries."""


def create_app(engine: FaceEngine, settings: Settings) -> FastAPI:
    """The API over ``engine``; ``settings`` gives the token, limits and allowed origins.

    The engine is borrowed, not owned: whoever built it closes it.
    """
    token = configured_token(settings)
    policy = Policy(token=token, max_photo_bytes=int(settings.max_upload_mb * MB))
    app = FastAPI(title="Face kiosk recognition service", version="1.0",
                  description=DESCRIPTION, docs_url=None, redoc_url=None)
    docs.install(app)  # Swagger UI from the package, not a CDN
    app.state.policy = policy
    app.state.engine = engine
    app.state.inference = inference = InferenceQueue(engine.models,
                                                     settings.max_queued_requests)
    app.state.auth_limiter = AuthLimiter(
        settings.auth_failures_per_minute, on_failure=functools.partial(_audit_refused, engine))
    errors.install(app)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(BrowserGuard, allowed_origins=settings.cors_origins,
                       loopback_only=is_loopback(settings.host))
    # GuardedRoute enforces the token before the body is read; this dependency only
    # declares the scheme, so /docs shows the lock and offers an Authorize button.
    declared = [Security(HTTPBearer(auto_error=False, description="the service's API token"))]
    api = APIRouter(route_class=GuardedRoute, dependencies=declared if token else [])

    @app.get("/health", tags=["service"],
             summary="Liveness and what is loaded (no token); status 'degraded' while the "
                     "shared store is unreachable (recognition goes on, enrolling waits)")
    def health() -> dict[str, Any]:
        engine.gallery.refresh()  # count people enrolled by the window too
        store = engine.store_status()
        return {"status": "ok" if store.online else "degraded",
                "store": {"kind": "postgresql" if store.shared else "sqlite",
                          "online": store.online, "queued": store.queued},
                "model": engine.models.embedder.info.name,
                "device": str(engine.models.embedder.device), "people": engine.gallery.size,
                "threshold": engine.threshold, "queued": inference.pending}

    async def decode(upload: UploadFile, field: str) -> Any:
        return await run_in_threadpool(read_photo, upload, field, policy)

    # ------------------------------------------------------------------ recognition
    @api.post("/recognize", tags=["recognition"], openapi_extra=photos(1),
              summary="Name every face in a photo (unknown faces have name null)")
    async def recognize(request: Request,
                        image: Annotated[UploadFile, File(description="a photo")],
                        liveness: Annotated[str | None, Query(
                            description="off or passive: score each face with the "
                                        "anti-spoofing check; faces then carry live and "
                                        "liveness_score, and a fake face has name null "
                                        "(default: the kiosk's setting)")] = None
                        ) -> dict[str, Any]:
        if liveness is not None:
            check_mode(liveness, photo=True)
        rgb = await decode(image, "image")
        started = time.perf_counter()
        faces = await inference.run(request, engine.identify, rgb, liveness)
        log.debug("recognize: %d face(s) in %.0f ms", len(faces),
                  (time.perf_counter() - started) * 1000)
        return {"faces": [face.to_json() for face in faces]}

    @api.post("/verify", tags=["recognition"], openapi_extra=photos(2),
              summary="1:1: is the main face of two photos the same person?")
    async def verify(request: Request,
                     image_a: Annotated[UploadFile, File(description="first photo")],
                     image_b: Annotated[UploadFile, File(description="second photo")]
                     ) -> dict[str, Any]:
        a = await decode(image_a, "image_a")
        b = await decode(image_b, "image_b")
        return (await inference.run(request, engine.verify, a, b)).to_json()

    # ------------------------------------------------------------------ gallery
    @api.get("/people", tags=["gallery"], summary="Enrolled people")
    def people() -> dict[str, Any]:
        return {"people": [person_json(p) for p in engine.gallery.people()]}

    # {name:path}: a name may contain "/" (sent as %2F, which the server decodes)
    @api.post("/people/{name:path}/faces", tags=["gallery"], status_code=201,
              openapi_extra=photos(MAX_ENROLL_PHOTOS),
              summary="Enroll photos of a person (new or existing); a face that already "
                      "looks like someone else is enrolled with a warning, or refused "
                      "(409) with strict=true unless force=true. Where the service requires "
                      "consent (require_consent 'always'), send consent=true")
    async def enroll(request: Request, name: str,
                     images: Annotated[list[UploadFile], File(description="one or more "
                                                              "photos of this person alone")],
                     force: bool = False, strict: bool = False,
                     consent: Annotated[bool, Query(description="the person agreed to the "
                                                    "service's consent text")] = False,
                     consent_by: Annotated[str | None, Query(
                         description="who consented, if not the person")] = None
                     ) -> dict[str, Any]:
        if len(images) > MAX_ENROLL_PHOTOS:
            raise HTTPException(413, f"{len(images)} photos in one request; send at most "
                                     f"{MAX_ENROLL_PHOTOS}")
        decoded = [(f"upload:{upload.filename or i + 1}",
                    await decode(upload, f"images[{i}]")) for i, upload in enumerate(images)]
        given = None
        if consent:
            given = (Consent(settings.consent_text, consent_by) if consent_by
                     else Consent(settings.consent_text))
        report = await inference.run(request, functools.partial(
            engine.enroll, force=force, strict=strict, consent=given, actor=actor(request)),
            name, decoded)
        assert report.person is not None  # enroll raises when nothing was added
        log.info("Enrolled %d photo(s) of person #%d over HTTP (%d skipped)", report.added,
                 report.person.id, len(report.skipped))
        return {"person": person_json(report.person), "added": report.added,
                "skipped": [{"photo": source, "reason": reason}
                            for source, reason in report.skipped],
                "warnings": report.warnings}

    # before DELETE /people/{name:path}, which would take ".../faces/3" as a name
    @api.get("/people/{name:path}/faces", tags=["gallery"],
             summary="A person's pictures: id, date, source, similarity to their "
                     "template, outlier (probably someone else)")
    def faces(name: str) -> dict[str, Any]:
        return {"faces": [p.to_json() for p in person_faces(engine, name)]}

    @api.delete("/people/{name:path}/faces/{face_id}", tags=["gallery"],
                summary="Delete one picture of a person (its crop, vectors and index "
                        "entry); a person's last picture is refused (delete the person)")
    def delete_one_face(name: str, face_id: int, request: Request) -> dict[str, Any]:
        done = delete_face(engine, name, face_id, actor=actor(request))
        log.info("Deleted picture #%d over HTTP", face_id)
        return {"name": done.name, "deleted": done.face_id, "remaining": done.remaining}

    @api.delete("/people/{name:path}", tags=["gallery"],
                summary="Delete a person with every face sample, crop and index entry")
    def delete(name: str, request: Request,
               keep_attendance: Annotated[bool | None, Query(
                   description="keep their check-in names and times (default: the "
                               "setting delete_attendance_with_person)")] = None
               ) -> dict[str, Any]:
        report = engine.delete(name, keep_attendance=keep_attendance, actor=actor(request))
        log.info("Deleted a person over HTTP (%d samples)", report.samples)
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
    def attendance_between(first: FromDay = None, last: ToDay = None) -> dict[str, Any]:
        first, last = day_range(first, last)
        return {"from": first, "to": last,
                "rows": [day_json(r) for r in engine.attendance.between(first, last)]}

    @api.get("/attendance/visitors", tags=["attendance"],
             summary="How many unknown visitors the window counted on a day")
    def visitors(day: Annotated[str | None, Query(description="YYYY-MM-DD, default today")]
                 = None) -> dict[str, Any]:
        day = day or day_of(time.time())
        parse_day(day)
        return {"day": day, "visitors": engine.attendance.visitors(day)}

    @api.get("/traffic", tags=["attendance"],
             summary="Foot traffic per day and hour: visits, unique, known, unknown visitors")
    def traffic(first: FromDay = None, last: ToDay = None) -> dict[str, Any]:
        from desktop.engine.attendance.traffic import traffic as count
        first, last = day_range(first, last)
        return {"from": first, "to": last,
                "days": [d.to_json() for d in count(engine.db, first, last)]}

    app.include_router(api)
    return app
