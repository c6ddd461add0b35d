"""The engine's privacy hooks: consent before enrollment, audit after it, settings and
retention at start-up, and what keeping no face crops means for re-embedding."""
from __future__ import annotations

import json
import logging

from desktop.engine.core.errors import KioskError, StoreOfflineError
from desktop.engine.privacy import retention
from desktop.engine.settings.saved import SETTINGS_FILE
from desktop.engine.storage import audit, consent
from desktop.engine.storage.consent import Consent, ConsentRequiredError

log = logging.getLogger(__name__)


def on_open(engine) -> None:
    """Note settings changed since the last start, and apply retention once; with the
    shared store unreachable both wait for the next start (and retention for its timer)."""
    try:
        note_settings(engine, engine.frontend)
        retention.run_once(engine)
    except StoreOfflineError as exc:
        log.warning("Settings audit and retention skipped at start-up: %s", exc)


def note_settings(engine, actor: str) -> list[str]:
    """Audit saved settings that changed (call after saving the settings dialog too)."""
    path = engine.settings.db_dir / SETTINGS_FILE
    try:
        stored = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError):
        stored = {}
    # a shared store's meta is the site's: each kiosk compares with its own last view
    from desktop.engine.storage.store import is_shared, kiosk_name
    seen_key = (f"settings_seen:{kiosk_name(engine.settings)}" if is_shared(engine.db)
                else "settings_seen")
    return audit.note_settings(engine.db, stored if isinstance(stored, dict) else {}, actor,
                               seen_key)


def check_consent(engine, name: str, given: Consent | None) -> None:
    """Refuse before any face is processed when consent is required and missing (a person
    who already consented may add photos without consenting again)."""
    if given is not None or not consent.required(engine.settings.require_consent,
                                                 engine.frontend):
        return
    if consent.has_consent_by_name(engine.db, name):
        return
    where = {"window": "tick the consent box", "cli": "pass --consent or --consent-file",
             "http": "send consent=true"}.get(engine.frontend, "record their consent")
    raise ConsentRequiredError(f"no consent to biometric enrollment was given: "
                               f"{where} (require_consent is "
                               f"{engine.settings.require_consent!r})")


def after_enroll(engine, person, samples: int, given: Consent | None, actor: str | None,
                 forced: bool) -> None:
    """Store the consent and the audit row (ids and counts only) in one transaction."""
    actor = actor or engine.frontend
    with engine.db.transaction() as cur:
        if given is not None:
            consent.store(cur, person.id, given, actor)
            audit.append(cur, "consent", actor, person.id, text_sha256=given.text_sha256,
                         on_behalf=given.given_by != Consent.given_by)
        audit.append(cur, "enroll", actor, person.id, samples=samples, forced=forced,
                     crops_kept=engine.settings.keep_face_crops)


def check_reembed_possible(rows: list[tuple[int, bytes]]) -> None:
    missing = sum(1 for _sid, crop in rows if not crop)
    if missing:
        raise KioskError(
            f"{missing} of {len(rows)} face samples were stored without their face photo "
            f"(keep_face_crops was off), so they cannot be re-embedded with another model; "
            f"nothing was changed. Load the weights that made them, or delete those people "
            f"and enroll them again")
