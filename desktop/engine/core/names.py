"""A person's name: the one form it is stored in, the one key it is compared by, and the
labels the kiosk shows that can never be somebody's name.

Every front end (window, CLI, HTTP) and the gallery go through ``normalize_name`` before
storing and ``name_key`` before comparing, so "Zoë  Smith", "zoë smith" and the
decomposed "Zoe\u0308 Smith" are one person everywhere (SQLite's NOCASE folds ASCII only).
"""
from __future__ import annotations

import unicodedata

from desktop.engine.core.errors import KioskError

MAX_NAME_LENGTH = 100
UNKNOWN = "Unknown"
"""The label of a face that is not enrolled; reserved, so no person can be counted as a
visitor (or a visitor as that person)."""
PENDING = "..."
"""The label of a face whose name is not confirmed yet."""
NOT_LIVE = "Not live"
"""The label of a face the liveness check judged a photo or screen; no check-in."""
RESERVED_LABELS = (UNKNOWN, PENDING, NOT_LIVE)

ALLOWED_FORMAT = {"\u200c", "\u200d"}
"""Zero-width non-joiner and joiner: invisible, but needed to spell names in Persian, Indic
scripts and emoji; every other format character (bidi overrides, zero-width space, soft
hyphen) is refused, as are control characters."""


def name_key(name: str) -> str:
    """What two names are compared by: NFC, whitespace squashed, case folded. Never raises,
    so names stored before validation existed can still be found."""
    text = " ".join(unicodedata.normalize("NFC", name).split())
    return unicodedata.normalize("NFC", text.casefold())


def normalize_name(name: str) -> str:
    """The stored form of a person's name, or KioskError saying what is wrong with it.

    NFC, runs of whitespace (tabs, newlines) squashed to one space; control characters,
    bidirectional and other invisible formatting characters, unassigned code points,
    the kiosk's own labels and names that cannot appear in a URL path are refused.
    """
    if not isinstance(name, str):
        raise KioskError("a person's name must be text")
    text = " ".join(unicodedata.normalize("NFC", name).split())
    if not text:
        raise KioskError("a person's name cannot be empty")
    if len(text) > MAX_NAME_LENGTH:
        raise KioskError(f"a person's name is limited to {MAX_NAME_LENGTH} characters")
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Cn", "Co") or (category == "Cf" and
                                                    char not in ALLOWED_FORMAT):
            what = unicodedata.name(char, "control character")
            raise KioskError(f"a person's name cannot contain invisible, control or "
                             f"text-direction characters (U+{ord(char):04X} {what})")
    if set(text) <= {".", " "}:
        raise KioskError("a person's name must contain more than dots")
    key = name_key(text)
    for label in RESERVED_LABELS:
        if key == name_key(label):
            raise KioskError(f"{label!r} is what the kiosk shows for faces it does not "
                             f"know; choose another name")
    return text
