"""Subject access: everything the kiosk holds about one person, in one zip file.

person.json (who, consent, samples' metadata, attendance, audit entries about them),
crops/<sample id>.jpg (the stored face photos), embeddings.npy (the face templates, one
row per sample in person.json order) and snapshots/ (check-in photos, if any were kept).
"""
from __future__ import annotations

import io
import json
import os
import re
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from desktop.engine.core.errors import KioskError
from desktop.engine.storage import audit, consent

README = """This archive holds every piece of data the reception kiosk stores about {name}
(exported {when}).

person.json      the person, their consent, the metadata of every face sample, their
                 attendance (days and check-ins) and the audit entries about them
crops/           the face photos (160x160 JPEG crops) stored for recognition
faces/           the larger face photos kept to switch face models, where stored
embeddings.npy   the face templates (one vector per sample, NumPy format)
snapshots/       photos taken at check-in, when the kiosk was set to keep them
"""


def _iso(ts: float | None) -> str | None:
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(ts))


MAX_FILE_STEM = 80
"""Characters of a person's name kept in the default export file name."""


def default_path(name: str, folder: Path | None = None) -> Path:
    """``<name>.zip`` in ``folder`` (the working folder): the name reduced to letters,
    digits, spaces, dashes and underscores, so ``../../x`` or ``/etc/x`` stays here."""
    stem = re.sub(r"[^\w\- ]+", "_", name).strip("_ .")[:MAX_FILE_STEM] or "person"
    return (folder or Path.cwd()) / f"{stem}.zip"


def _private_file(out: Path, overwrite: bool) -> tuple[Path, BinaryIO, Callable[[], None]]:
    """A new file beside ``out``, mode 0600 from its creation, and the step that puts it in
    place: a link that never replaces (``overwrite`` False) or an atomic rename."""
    if out.exists() and not overwrite:
        raise KioskError(f"{out} already exists; choose another --out or add --force to "
                         f"replace it")
    if not out.parent.is_dir():
        raise KioskError(f"cannot write {out}: the folder {out.parent} does not exist")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise KioskError(f"cannot write {out}: {exc.strerror or exc}") from None

    def place() -> None:
        if overwrite:
            os.replace(tmp, out)
            return
        try:
            os.link(tmp, out)  # fails if out appeared meanwhile: nothing is replaced
        except FileExistsError:
            raise KioskError(f"{out} already exists; choose another --out or add --force "
                             f"to replace it") from None
        except OSError:  # no hard links (a FAT USB stick): checked, then renamed
            if out.exists():
                raise KioskError(f"{out} already exists; add --force to replace it") from None
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
    return tmp, os.fdopen(fd, "wb"), place


def export_person(engine, name: str, out: Path, actor: str, *,
                  overwrite: bool = False) -> dict[str, int]:
    """Write the zip (mode 0600, never over an existing file unless ``overwrite``), audit
    the export, and return what it holds."""
    out = Path(out)
    person = engine.gallery.person(name)
    db = engine.db
    samples = db.query("SELECT id, embedding, crop, source, model_id, created_at, face "
                       "FROM samples WHERE person_id = ? ORDER BY id", (person.id,))
    checkins = db.query("SELECT id, ts, day, similarity, snapshot FROM checkins "
                        "WHERE person_id = ? ORDER BY ts", (person.id,))
    days = db.query("SELECT day, first_in, last_seen FROM presence WHERE person_id = ? "
                    "ORDER BY day", (person.id,))
    given = consent.of_person(db, person.id)
    entries = audit.entries(db, subject=person.id)
    document = {
        "person": {"id": person.id, "name": person.name, "enrolled": _iso(person.created_at)},
        "consent": None if given is None else {**given.to_json(),
                                               "given_at": _iso(given.given_at)},
        "samples": [{"id": sid, "source": source, "model": model, "stored": _iso(ts),
                     "crop": f"crops/{sid}.jpg" if crop else None,
                     "face": f"faces/{sid}.jpg" if face else None}
                    for sid, _e, crop, source, model, ts, face in samples],
        "attendance_days": [{"day": d, "first_in": _iso(a), "last_seen": _iso(b)}
                            for d, a, b in days],
        "checkins": [{"time": _iso(ts), "day": day, "similarity": round(sim, 4),
                      "snapshot": f"snapshots/{cid}.jpg" if snap else None}
                     for cid, ts, day, sim, snap in checkins],
        "audit": [{**e.to_json(), "time": _iso(e.ts)} for e in entries],
    }
    vectors = (np.frombuffer(b"".join(bytes(r[1]) for r in samples), np.float32)
               .reshape(len(samples), -1))  # the model's dimension (512 FaceNet, 128 dlib)
    npy = io.BytesIO()
    np.save(npy, vectors)
    tmp, handle, place = _private_file(out, overwrite)
    try:
        with handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", README.format(name=person.name,
                                                         when=_iso(time.time())))
            archive.writestr("person.json", json.dumps(document, indent=2, ensure_ascii=False))
            archive.writestr("embeddings.npy", npy.getvalue())
            for sid, _e, crop, *_rest, face in samples:
                if crop:
                    archive.writestr(f"crops/{sid}.jpg", crop)
                if face:  # the model-neutral face kept for re-embedding (storage/embeddings.py)
                    archive.writestr(f"faces/{sid}.jpg", face)
            for cid, _ts, _d, _s, snap in checkins:
                if snap:
                    archive.writestr(f"snapshots/{cid}.jpg", snap)
            archive.close()
            handle.flush()
            os.fsync(handle.fileno())
        place()
    except OSError as exc:
        raise KioskError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    summary = {"samples": len(samples), "crops": sum(1 for r in samples if r[2]),
               "checkins": len(checkins), "days": len(days), "audit_entries": len(entries)}
    audit.record(db, "export", actor, person.id, **summary)
    return summary
