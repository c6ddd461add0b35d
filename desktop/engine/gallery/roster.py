"""Who is enrolled, read straight from the store: for listings that must not load a face
model or the Faiss index (``main.py people`` answers in a fraction of a second)."""
from __future__ import annotations

from desktop.engine.core.types import Person
from desktop.engine.decisions.matching import default_threshold
from desktop.engine.settings.config import Settings
from desktop.engine.storage.store import Store

PEOPLE_SQL = ("SELECT p.id, p.name, p.created_at, COUNT(s.id) FROM people p "
              "LEFT JOIN samples s ON s.person_id = p.id GROUP BY p.id "
              "ORDER BY p.name COLLATE NOCASE")


def list_people(db: Store) -> list[Person]:
    """Everyone enrolled, by name, with their number of samples."""
    return [Person(*row) for row in db.query(PEOPLE_SQL)]


def store_model(db: Store) -> str | None:
    """The name of the model whose vectors the gallery searches (None before the first
    enrollment claims one)."""
    return db.get_meta("model_name")


def site_threshold(db: Store, settings: Settings) -> float:
    """The threshold a recognition would use: the setting, the site's (per active model),
    or the model's default."""
    if settings.threshold is not None:
        return settings.threshold
    value = db.get_meta("threshold")
    if value is not None:
        return float(value)
    return default_threshold(store_model(db) or settings.model)
