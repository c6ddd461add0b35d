"""Names and the gallery's bookkeeping, without the model: synthetic unit vectors in a real
SQLite gallery (fast tier)."""
from __future__ import annotations

import re

import numpy as np
import pytest

from desktop.engine.core.errors import KioskError, UnknownPersonError
from desktop.engine.core.names import UNKNOWN, look_alike_key, name_key, normalize_name
from desktop.engine.core.types import EMBEDDING_DIM, ModelInfo
from desktop.engine.gallery.people import Gallery

# the engine's SQLite build (SQLCipher's): two SQLite libraries in one process do not see
# each other's POSIX locks, so a stdlib reader would not hold back the checkpoint
from desktop.engine.storage.sqlcipher import dbapi as sqlite3
from desktop.engine.storage.sqlite import Database

MODEL = ModelInfo("synthetic", "facenet:synthetic")
CROP = np.zeros((160, 160, 3), np.uint8)


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=(1, EMBEDDING_DIM)).astype(np.float32)
    return vector / np.linalg.norm(vector)


def open_gallery(path) -> Gallery:
    return Gallery(Database(path), MODEL)


@pytest.mark.parametrize("raw,stored", [
    ("  Zoë \t Smith\n", "Zoë Smith"),
    ("Zoe\u0308 Smith", "Zoë Smith"),                  # decomposed -> NFC
    ("AC/DC", "AC/DC"),
    ("\u0645\u0631\u06cc\u200c\u0645", "\u0645\u0631\u06cc\u200c\u0645"),  # Persian ZWNJ kept
    ("\uff34\uff4f\uff4d", "Tom"),                  # fullwidth -> NFKC
    ("\ufb01ona", "fiona"),                           # ligature -> NFKC
    ("Сергей", "Сергей"),                              # a Cyrillic name is a name
])
def test_names_are_stored_in_one_form(raw, stored):
    assert normalize_name(raw) == stored


@pytest.mark.parametrize("raw,words", [
    ("", "empty"), ("   ", "empty"), ("x" * 101, "100"),
    ("Eve\x00", "U+0000"), ("\x1b[31mRed", "U+001B"),
    ("Mallory\u202eevil", "RIGHT-TO-LEFT OVERRIDE"), ("Bob\u200b", "ZERO WIDTH SPACE"),
    ("Unknown", "choose another name"), ("  unKNOWN ", "choose another name"),
    ("...", "dots"), ("..", "dots"),
    # blank on screen
    ("\u3164", "FILLER"), ("\u2800", "U+2800"), ("Amy\u3164", "FILLER"),
    ("\u200c", "blank"), ("\u200c \u200d", "blank"), ("\u0301", "blank"),
    ("\u0301\u0308 \u20dd", "blank"),
    # look-alikes of the kiosk's own labels
    ("Unknown\u200c", "choose another name"), ("Unkn\u043ewn", "choose another name"),
    ("\uff35\uff4e\uff4b\uff4e\uff4f\uff57\uff4e", "choose another name"),
    ("\u039dot live", "choose another name"), ("Unkn0wn", "choose another name"),
    ("\u00a0\u2026", "dots"),                        # NFKC of the ellipsis is "..."
])
def test_bad_names_are_refused_with_a_reason(raw, words):
    with pytest.raises(KioskError, match=re.escape(words)):
        normalize_name(raw)


def test_one_key_compares_names_everywhere():
    assert name_key("ÉMILE  Zola") == name_key("émile zola") == name_key("E\u0301mile Zola")
    assert name_key("Straße") == name_key("STRASSE")
    assert name_key("Ann") != name_key("Anne")


def test_gallery_finds_people_by_key_beyond_ascii(tmp_path):
    gallery = open_gallery(tmp_path / "g.sqlite3")
    gallery.add_samples("Émile Zola", unit(1), [CROP], ["a"])
    person = gallery.add_samples("émile   ZOLA", unit(2), [CROP], ["b"])  # same person
    assert person.name == "Émile Zola" and person.samples == 2
    assert [p.name for p in gallery.people()] == ["Émile Zola"]
    assert gallery.person("E\u0301MILE ZOLA").id == person.id
    with pytest.raises(KioskError, match="already"):
        gallery.add_samples("Other", unit(3), [CROP], ["c"]) and gallery.rename("Other",
                                                                                 "ÉMILE ZOLA")
    assert gallery.delete_person("émile zola").samples == 2
    with pytest.raises(UnknownPersonError):
        gallery.person("Émile Zola")


def test_look_alike_key_sees_what_the_screen_shows():
    assert look_alike_key("Amy\u200c") == look_alike_key("\u0410my") == look_alike_key("AMY")
    assert look_alike_key("Zoë") != look_alike_key("Zoe")
    assert look_alike_key("Ann") != look_alike_key("Anne")


def test_a_new_name_cannot_pass_for_someone_enrolled(tmp_path):
    gallery = open_gallery(tmp_path / "g.sqlite3")
    amy = gallery.add_samples("Amy", unit(1), [CROP], ["a"])
    for twin in ("Amy\u200c", "\u0410my", "\u0410\u043c\u0443", "A\u200dmy"):
        with pytest.raises(KioskError, match="looks the same as 'Amy'"):
            gallery.add_samples(twin, unit(2), [CROP], ["b"])
    assert gallery.add_samples("amy", unit(3), [CROP], ["c"]).id == amy.id  # same person
    assert gallery.add_samples("\uff21my", unit(3), [CROP], ["c"]).id == amy.id  # NFKC
    gallery.add_samples("Bob", unit(4), [CROP], ["d"])
    with pytest.raises(KioskError, match="looks the same as 'Amy'"):
        gallery.rename("Bob", "\u0410my")
    assert [p.name for p in gallery.people()] == ["Amy", "Bob"]


def test_names_stored_before_the_checks_still_work(tmp_path):
    """A database may hold look-alikes written by an older version: both stay reachable,
    take more photos, and can be renamed or deleted."""
    path = tmp_path / "g.sqlite3"
    open_gallery(path).add_samples("Amy", unit(1), [CROP], ["a"])
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO people(name, created_at) VALUES ('Amy\u200c', 0)")
        raw.execute("INSERT INTO people(name, created_at) VALUES ('Unkn\u043ewn', 0)")
    gallery = open_gallery(path)
    twin = gallery.add_samples("Amy\u200c", unit(2), [CROP], ["b"])
    assert twin.name == "Amy\u200c" and twin.samples == 1
    assert gallery.person("Amy").samples == 1
    with pytest.raises(KioskError, match="choose another name"):  # rename it first
        gallery.add_samples("Unkn\u043ewn", unit(3), [CROP], ["c"])
    assert gallery.rename("Amy\u200c", "Amelia").name == "Amelia"
    assert gallery.delete_person("Unkn\u043ewn").samples == 0


def test_unknown_is_not_a_name_in_the_gallery(tmp_path):
    gallery = open_gallery(tmp_path / "g.sqlite3")
    with pytest.raises(KioskError, match="choose another name"):
        gallery.add_samples(UNKNOWN, unit(1), [CROP], ["a"])
    gallery.add_samples("Alice", unit(1), [CROP], ["a"])
    with pytest.raises(KioskError, match="choose another name"):
        gallery.rename("Alice", "unknown")


def test_a_commit_during_an_index_load_is_not_missed(tmp_path):
    """The data version was recorded after loading, so a commit made by another
    process during the load stayed invisible until the next write. The other process is a
    second connection; it commits exactly while the reader runs its load query."""
    path = tmp_path / "g.sqlite3"
    writer, reader = open_gallery(path), open_gallery(path)
    writer.add_samples("Ann", unit(1), [CROP], ["a"])
    load_query = "JOIN people p ON p.id = s.person_id"
    real_query = reader.db.query
    fired = []

    def query_then_commit(sql: str, params: tuple = ()) -> list[tuple]:
        rows = real_query(sql, params)
        if load_query in sql and not fired:
            fired.append(True)
            writer.add_samples("Bob", unit(2), [CROP], ["b"])   # lands mid-load
        return rows

    reader.db.query = query_then_commit
    reader.refresh()                      # sees Ann's commit and reloads; Bob commits now
    reader.db.query = real_query
    assert fired
    assert reader.search(unit(2), 1)[0][0][0] == "Bob"   # the next look picks Bob up
    assert reader.size == 2


def test_delete_does_not_wait_for_a_reader_and_erases_once_it_is_gone(tmp_path):
    """A reader holding a snapshot used to stall deletion for busy_timeout (30 s) and keep
    the person's bytes in the file; now deletion returns and the checkpoint is retried."""
    path = tmp_path / "g.sqlite3"
    gallery = open_gallery(path)
    gallery.add_samples("Quokka Zyxwvut", unit(1), [CROP], ["a"])
    gallery.add_samples("Keeper", unit(2), [CROP], ["b"])
    reader = sqlite3.connect(path)
    reader.execute("BEGIN")
    assert reader.execute("SELECT COUNT(*) FROM people").fetchone()[0] == 2  # holds a snapshot
    gallery.delete_person("Quokka Zyxwvut")
    assert gallery.db.checkpoint_pending
    reader.rollback()
    reader.close()
    gallery.refresh()                     # any later request finishes the checkpoint
    assert not gallery.db.checkpoint_pending
    for leftover in tmp_path.iterdir():
        assert b"Zyxwvut" not in leftover.read_bytes(), leftover.name
    assert [p.name for p in gallery.people()] == ["Keeper"]
