"""Privacy commands of the command line: consent options, audit, subject export, and
encrypting, decrypting or re-keying the database."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from desktop.cli_common import open_engine
from desktop.engine import KioskError, Settings

ACTOR = "cli"


def add_consent_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--consent", action="store_true",
                   help="the person agreed to the consent text in the settings (consent_text)")
    p.add_argument("--consent-file", metavar="FILE",
                   help="the person agreed to the text in FILE (e.g. a signed form's text)")
    p.add_argument("--consent-by", metavar="WHO",
                   help="who consented, if not the person (a parent or guardian)")


def consent_from_args(settings: Settings, args: argparse.Namespace):
    """The Consent the options describe, or None."""
    from desktop.engine import Consent
    from desktop.engine.storage.consent import from_file
    if args.consent_file:
        return from_file(Path(args.consent_file), args.consent_by)
    if args.consent:
        return (Consent(settings.consent_text, args.consent_by) if args.consent_by
                else Consent(settings.consent_text))
    if args.consent_by:
        raise KioskError("--consent-by needs --consent or --consent-file")
    return None


def consent_column(db) -> dict[int, str]:
    """Person id -> 'consent 2026-01-31' for the `people` listing."""
    from desktop.engine.storage.consent import all_people
    return {pid: "consent " + time.strftime("%Y-%m-%d", time.localtime(rec.given_at))
            for pid, rec in all_people(db).items()}


# ----------------------------------------------------------------------------- commands
def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    from desktop.engine import open_store
    from desktop.engine.storage import audit
    db = open_store(settings)
    try:
        if args.verify:
            problems = audit.verify(db)
            count = db.query("SELECT COUNT(*) FROM audit")[0][0]
            for problem in problems:
                print(f"TAMPERED: {problem}")
            if problems:
                return 1
            print(f"audit trail intact: {count} entries, head {audit.head(db)}")
            return 0
        for entry in audit.entries(db, subject=args.person_id):
            if args.json:
                print(json.dumps(entry.to_json()), flush=True)
            else:
                print(entry.describe())
        return 0
    finally:
        db.close()


def cmd_person_export(settings: Settings, args: argparse.Namespace) -> int:
    from desktop.engine.privacy.export import default_path
    # --out is the user's own choice of place; the default stays in the working folder
    out = Path(args.out) if args.out else default_path(args.name)
    if out.exists() and not args.force:  # before the models load
        raise KioskError(f"{out} already exists; choose another --out or add --force to "
                         f"replace it")
    engine = open_engine(settings)
    summary = engine.export_person(args.name, out, overwrite=args.force)
    print(f"wrote {out}: {summary['samples']} sample(s), {summary['crops']} face photo(s), "
          f"{summary['checkins']} check-in(s), {summary['audit_entries']} audit entries")
    return 0


def _new_key(args: argparse.Namespace) -> str:
    from desktop.engine import read_key_file
    if args.new_key_file:
        return read_key_file(Path(args.new_key_file))
    key = os.environ.get("FACE_KIOSK_NEW_KEY", "")
    if not key:
        raise KioskError("give the new key with --new-key-file FILE or $FACE_KIOSK_NEW_KEY")
    return key


def cmd_db_key(settings: Settings, args: argparse.Namespace) -> int:
    """encrypt: plain -> the configured key; decrypt: key -> plain; rekey: key -> new key
    (``db`` command of cli_db; SQLite only)."""
    from desktop.engine.storage import audit
    from desktop.engine.storage import sqlcipher as crypto_db
    from desktop.engine.storage.sqlite import Database
    if settings.db_url:
        raise KioskError("db encrypt/decrypt/rekey work on the SQLite file; a shared "
                         "PostgreSQL store is protected by the server (disk encryption, TLS)")
    path = settings.db_path
    encrypted = crypto_db.is_encrypted(path)
    if args.action == "encrypt":
        if encrypted:
            raise KioskError(f"{path} is already encrypted (use `db rekey` to change the key)")
        if not settings.db_key:
            raise KioskError("give the key with $FACE_KIOSK_KEY or --key-file")
        old, new = None, settings.db_key
    elif args.action == "decrypt":
        if not encrypted:
            raise KioskError(f"{path} is not encrypted")
        old, new = settings.db_key, None
    else:
        if not encrypted:
            raise KioskError(f"{path} is not encrypted (use `db encrypt`)")
        old, new = settings.db_key, _new_key(args)
    if encrypted and not old:
        raise KioskError(f"{path} is encrypted: give its current key with $FACE_KIOSK_KEY "
                         f"or --key-file")

    def note(tmp: Path) -> None:  # the key change is audited inside the new file
        db = Database(tmp, key=new)
        try:
            audit.record(db, "key", ACTOR, change=args.action)
            db.checkpoint()
        finally:
            db.close()

    def step(name: str) -> None:
        if getattr(args, "verbose", False):
            print(name, file=sys.stderr, flush=True)

    crypto_db.migrate(path, old, new, before_swap=note, progress=step)
    done = {"encrypt": "encrypted", "decrypt": "decrypted (stored in clear)",
            "rekey": "re-keyed"}[args.action]
    print(f"{path} {done}; every person, sample and check-in verified")
    return 0


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Register the privacy commands with cli.py's ``add(name, func, help)``, with a
    person's pictures one by one (cli_faces: ``faces``, ``delete-face``)."""
    from desktop.cli_faces import add_commands as add_face_commands
    add_face_commands(add)
    p = add("audit", cmd_audit, "the audit trail (who enrolled, exported, deleted ...)")
    p.add_argument("--verify", action="store_true",
                   help="check the hash chain; exit 1 if a row was changed or removed")
    p.add_argument("--person-id", type=int, help="only entries about this person id")
    p.add_argument("--json", action="store_true")
    p = add("person", cmd_person_export, "subject access: export everything about a person")
    p.add_argument("action", choices=("export",))
    p.add_argument("name")
    p.add_argument("--out", metavar="FILE.zip",
                   help="default NAME.zip in the working folder (NAME reduced to letters, "
                   "digits, spaces, - and _); the file is readable by its owner only")
    p.add_argument("--force", action="store_true", help="replace an existing file")
