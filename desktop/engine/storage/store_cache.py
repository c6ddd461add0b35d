"""What a kiosk keeps of a shared store so it can start while the store is unreachable
(a power cut where the kiosk boots before the database server): the store's ``meta``
(model, threshold, generation) and, beside each saved Faiss index, who its samples are
(sample -> person, names, person templates).

Both live in the kiosk's cache folder next to ``index-<generation>.faiss``, go with it
when the generation changes, and are never written beside an encrypted database (the
index is not either). Recognition runs from them until the store answers; writes wait.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

META_FILE = "store-meta.json"
PEOPLE_SUFFIX = ".people.npz"
"""Appended to an index file's name: ``index-7.faiss.people.npz``."""


def _replace(path: Path, write) -> None:
    """Write through a temporary file and rename: a crash leaves the old copy or the new."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("Could not save %s for offline starts: %s", path.name, exc)
        tmp.unlink(missing_ok=True)


def save_meta(folder: Path, meta: dict[str, str]) -> None:
    _replace(folder / META_FILE, lambda tmp: tmp.write_text(json.dumps(meta)))


def load_meta(folder: Path) -> dict[str, str] | None:
    """The last ``meta`` seen from the store, or None (never reached, or unreadable)."""
    try:
        data = json.loads((folder / META_FILE).read_text())
    except (OSError, ValueError):
        return None
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else None


def save_people(index_path: Path, person_of_sample: dict[int, int], names: dict[int, str],
                templates: dict[str, np.ndarray]) -> None:
    """Who the samples of the index at ``index_path`` belong to, and the templates."""
    samples = np.array(sorted(person_of_sample.items()), np.int64).reshape(-1, 2)
    pids = sorted(names)

    def write(tmp: Path) -> None:
        with tmp.open("wb") as out:
            arrays: dict[str, np.ndarray] = {
                "samples": samples, "pids": np.array(pids, np.int64),
                "names": np.array(json.dumps([names[p] for p in pids])), **templates}
            np.savez(out, **arrays)  # type: ignore[arg-type]
    _replace(Path(f"{index_path}{PEOPLE_SUFFIX}"), write)


def load_people(index_path: Path) -> tuple[dict[int, int], dict[int, str],
                                           dict[str, np.ndarray]] | None:
    """``save_people``'s maps and template arrays, or None if there is no copy."""
    try:
        with np.load(Path(f"{index_path}{PEOPLE_SUFFIX}")) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, KeyError):
        return None
    samples = arrays.pop("samples")
    pids = [int(p) for p in arrays.pop("pids")]
    names = dict(zip(pids, json.loads(str(arrays.pop("names")))))
    return {int(s): int(p) for s, p in samples}, names, arrays
