"""Errors a user can cause and fix; front ends show their message, never a traceback."""
from __future__ import annotations


class KioskError(Exception):
    """Base of every expected, user-facing failure."""


class ImageError(KioskError):
    """A file or upload that is not a readable image."""


class FaceCountError(KioskError):
    """Enrollment needs exactly one face in the photo."""


class LowQualityError(FaceCountError):
    """The face is too small, blurred or uncertain to be judged (the quality gate)."""


class DuplicateFaceError(KioskError):
    """The face being enrolled already matches another enrolled person."""

    def __init__(self, message: str, other: str, similarity: float) -> None:
        super().__init__(message)
        self.other = other
        self.similarity = similarity


class UnknownPersonError(KioskError):
    """A name that is not enrolled."""


class UnknownFaceError(KioskError):
    """A picture id that is not one of the named person's."""


class ModelMismatchError(KioskError):
    """The database holds embeddings of another model than the one loaded."""


class WeightsUnavailableError(KioskError):
    """FaceNet weights are neither on disk nor downloadable."""


class DatabaseError(KioskError):
    """The gallery database is corrupt, locked, or the disk is full."""


class StoreOfflineError(DatabaseError):
    """The shared database cannot be reached right now (retry later; recognition goes on)."""


class SourceError(KioskError):
    """A camera, video file, folder or stream that cannot be opened."""


class SettingsError(KioskError, ValueError):
    """A setting with a value it cannot take; the message names both."""
