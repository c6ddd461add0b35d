"""A person's name: the one form it is stored in, the one key it is compared by, and the
labels the kiosk shows that can never be somebody's name.

Every front end (window, CLI, HTTP) and the gallery go through ``normalize_name`` before
storing and ``name_key`` before comparing, so "Zoë  Smith", "zoë smith" and the
decomposed "Zoe\u0308 Smith" are one person everywhere (SQLite's NOCASE folds ASCII only).
``look_alike_key`` is coarser: names that render the same (a zero-width joiner, Cyrillic
"о" for Latin "o") share it, so a new name cannot pass for a reserved label or for
somebody already enrolled.
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


FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\u034f\u17b4\u17b5")
"""Characters that draw nothing though Unicode does not class them as formatting (Hangul
fillers, the blank Braille pattern, the Mongolian vowel separator, the combining grapheme
joiner, Khmer inherent vowels): refused in a name."""

CONFUSABLES = str.maketrans({
    # Cyrillic (lower case: the key is case folded first)
    "а": "a", "в": "b", "е": "e", "ё": "ë", "һ": "h", "і": "i", "ї": "ï", "ј": "j",
    "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y",
    "х": "x", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ү": "y", "ѵ": "v",
    # Greek, by the Latin capital each one's capital looks like
    "α": "a", "β": "b", "ε": "e", "ζ": "z", "η": "h", "ι": "i", "κ": "k", "μ": "m",
    "ν": "n", "ο": "o", "ρ": "p", "τ": "t", "υ": "y", "χ": "x", "ϲ": "c", "ϳ": "j",
    # Latin look-alikes
    "ı": "i", "ȷ": "j", "ſ": "f", "ɡ": "g", "0": "o", "1": "l", "|": "l",
})
"""Common letters of other scripts that render like a Latin one: a small subset of
Unicode's confusables (UTS #39), enough for the look-alikes of a name on a kiosk screen."""


def name_key(name: str) -> str:
    """What two names are compared by: NFKC, whitespace squashed, case folded. Never
    raises, so names stored before validation existed can still be found."""
    text = " ".join(unicodedata.normalize("NFKC", name).split())
    return unicodedata.normalize("NFKC", text.casefold())


def invisible(char: str) -> bool:
    """Draws nothing on its own: formatting characters (zero-width joiners included),
    combining marks without a base letter, fillers and variation selectors."""
    return (unicodedata.category(char) in ("Cf", "Mn", "Me", "Mc") or char in FILLERS
            or "\ufe00" <= char <= "\ufe0f" or "\U000e0100" <= char <= "\U000e01ef")


def look_alike_key(name: str) -> str:
    """What a name looks like: ``name_key`` without invisible characters, with common
    Cyrillic and Greek look-alikes made Latin. Equal keys render (nearly) the same."""
    decomposed = unicodedata.normalize("NFD", name_key(name))
    kept = "".join(c for c in decomposed if unicodedata.category(c) != "Cf"
                   and c not in FILLERS and not ("\ufe00" <= c <= "\ufe0f"))
    text = unicodedata.normalize("NFC", kept).translate(CONFUSABLES)
    return " ".join(text.split())


def look_alike(name: str, others: list[str]) -> str | None:
    """The first of ``others`` that is not ``name`` (by ``name_key``) but renders like it."""
    key, look = name_key(name), look_alike_key(name)
    return next((o for o in others if name_key(o) != key and look_alike_key(o) == look), None)


def check_distinct(name: str, others: list[str]) -> None:
    """KioskError when ``name`` would pass for one of ``others`` on screen."""
    twin = look_alike(name, others)
    if twin is not None:
        raise KioskError(f"{name!r} looks the same as {twin!r}, who is already enrolled; "
                         f"use that name for the same person, or a name that reads "
                         f"differently")


def clean_text(text: str, what: str, limit: int) -> str:
    """One line of free text that people will read (a name, who gave consent): NFKC,
    whitespace squashed, at most ``limit`` characters, no control, bidi or other
    invisible formatting characters except the joiners scripts need, not blank."""
    if not isinstance(text, str):
        raise KioskError(f"{what} must be text")
    text = " ".join(unicodedata.normalize("NFKC", text).split())
    if not text:
        raise KioskError(f"{what} cannot be empty")
    if len(text) > limit:
        raise KioskError(f"{what} is limited to {limit} characters")
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Cn", "Co") or char in FILLERS or (
                category == "Cf" and char not in ALLOWED_FORMAT):
            label = unicodedata.name(char, "control character")
            raise KioskError(f"{what} cannot contain invisible, control or text-direction "
                             f"characters (U+{ord(char):04X} {label})")
    if all(invisible(c) or c.isspace() for c in text):
        raise KioskError(f"{what} is blank: it has no visible letters")
    return text


def normalize_name(name: str) -> str:
    """The stored form of a person's name, or KioskError saying what is wrong with it.

    ``clean_text`` (NFKC, one line, nothing invisible or blank), not only dots, and not
    a look-alike of the kiosk's own labels; names that cannot appear in a URL path are
    refused.
    """
    text = clean_text(name, "a person's name", MAX_NAME_LENGTH)
    if set(text) <= {".", " "}:
        raise KioskError("a person's name must contain more than dots")
    look = look_alike_key(text)
    for label in RESERVED_LABELS:
        if look == look_alike_key(label):
            raise KioskError(f"{label!r} is what the kiosk shows for faces it does not "
                             f"know; choose another name")
    return text
