"""Model files that are downloaded once into torch's checkpoints folder, or given by hand."""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import torch

from desktop.engine.core.errors import WeightsUnavailableError

log = logging.getLogger(__name__)


def checkpoint_dir() -> Path:
    """Where torch.hub (and facenet-pytorch) keep downloaded weights."""
    return Path(torch.hub.get_dir()).parent / "checkpoints"


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_once(url: str, target: Path, *, what: str, alternative: str,
                  sha256: str | None = None) -> Path:
    """``target`` if present, else downloaded from ``url`` with a progress bar.

    Without a network the WeightsUnavailableError names the file, the folder to put it in,
    where it comes from and ``alternative`` (the flag that avoids the download).
    """
    if target.is_file():
        return target
    log.info("Downloading %s to %s", what, target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(url, str(target), hash_prefix=sha256, progress=True)
    except Exception as exc:  # no network, proxy, disk full, bad hash: all end the same way
        raise WeightsUnavailableError(
            f"The {what} are not on this machine and could not be downloaded "
            f"({type(exc).__name__}: {str(exc)[:200]}).\n"
            f"  Either put the file {target.name} into {target.parent}/\n"
            f"  (from {url}),\n"
            f"  or {alternative}.") from None
    return target
