"""Consent to biometric enrollment: who gave it, when, and the exact text they were shown.

One row per person, removed with the person (ON DELETE CASCADE); the audit trail keeps
that consent was recorded (person id and a hash of the text), not who gave it.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from desktop.engine.core.errors import KioskError
from desktop.engine.core.names import clean_text, name_key

SCHEMA = ("""CREATE TABLE IF NOT EXISTS consent (
    person_id    INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    given_by     TEXT NOT NULL,
    given_at     REAL NOT NULL,
    text         TEXT NOT NULL,
    recorded_via TEXT NOT NULL)""",)

MODES = ("always", "window", "never")
MAX_GIVEN_BY = 200
"""Characters of who gave consent (a name and a role, "Jane Doe, mother")."""
MAX_FILE_BYTES = 1024 * 1024
"""A consent form's text is read up to this size: a form, not a device or a video."""


class ConsentRequiredError(KioskError):
    """Enrollment refused: consent is required and was not given."""


@dataclass(frozen=True)
class Consent:
    text: str
    """What the person was shown and agreed to."""
    given_by: str = "the person enrolled"
    """The subject, or who consented for them (a parent, a guardian)."""
    given_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        """``given_by`` is shown to people: one clean line (see ``names.clean_text``)."""
        object.__setattr__(self, "given_by", clean_text(
            self.given_by, "who gave consent (consent_by)", MAX_GIVEN_BY))

    @property
    def text_sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


@dataclass(frozen=True)
class ConsentRecord:
    person_id: int
    given_by: str
    given_at: float
    text: str
    recorded_via: str

    def to_json(self) -> dict:
        return {"given_by": self.given_by, "given_at": self.given_at, "text": self.text,
                "recorded_via": self.recorded_via}


def ensure_schema(cur) -> None:
    for statement in SCHEMA:
        cur.execute(statement)


def from_file(path: Path, given_by: str | None = None) -> Consent:
    """A consent whose text is the file a person signed or agreed to (CLI --consent-file)."""
    try:
        with Path(path).open("rb") as form:
            data = form.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise KioskError(f"cannot read consent file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise KioskError(f"consent file {path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: "
                         f"give the text of the form the person agreed to")
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise KioskError(f"consent file {path} is not UTF-8 text") from None
    if "\x00" in text:
        raise KioskError(f"consent file {path} holds NUL bytes: it is not a text file")
    if not text:
        raise KioskError(f"consent file {path} is empty")
    return Consent(text, given_by or Consent.given_by)


def required(mode: str, frontend: str) -> bool:
    """Whether ``require_consent`` (always / window / never) applies to this front end."""
    if mode not in MODES:
        raise KioskError(f"require_consent must be one of {', '.join(MODES)}, not {mode!r}")
    return mode == "always" or (mode == "window" and frontend == "window")


def store(cur, person_id: int, consent: Consent, recorded_via: str) -> None:
    """Record (or replace) the person's consent inside the caller's transaction."""
    cur.execute("INSERT INTO consent(person_id, given_by, given_at, text, recorded_via) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(person_id) DO UPDATE SET "
                "given_by = excluded.given_by, given_at = excluded.given_at, "
                "text = excluded.text, recorded_via = excluded.recorded_via",
                (person_id, consent.given_by, consent.given_at, consent.text, recorded_via))


def of_person(db, person_id: int) -> ConsentRecord | None:
    rows = db.query("SELECT person_id, given_by, given_at, text, recorded_via FROM consent "
                    "WHERE person_id = ?", (person_id,))
    return ConsentRecord(*rows[0]) if rows else None


def all_people(db) -> dict[int, ConsentRecord]:
    rows = db.query("SELECT person_id, given_by, given_at, text, recorded_via FROM consent")
    return {r[0]: ConsentRecord(*r) for r in rows}


def has_consent_by_name(db, name: str) -> bool:
    """Whether the person ``name`` refers to (compared by ``names.name_key``, as the
    gallery finds people) has consent on record."""
    key = name_key(name)
    return any(name_key(stored) == key for (stored,) in db.query(
        "SELECT p.name FROM consent c JOIN people p ON p.id = c.person_id"))
