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


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_once(url: str, target: Path, *, what: str, alternative: str,
                  sha256: str | None = None, sha384: str | None = None) -> Path:
    """``target`` if present, else downloaded from ``url`` with a progress bar, checked
    against ``sha256`` (a prefix is enough) and ``sha384`` (the whole published digest)
    before it takes its name, so a bad or partial download never looks like a good file.

    Without a network the WeightsUnavailableError names the file, the folder to put it in,
    where it comes from and ``alternative`` (the flag that avoids the download).
    """
    if target.is_file():
        return target
    log.info("Downloading %s to %s", what, target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        torch.hub.download_url_to_file(url, str(part), hash_prefix=sha256, progress=True)
        if sha384 and file_digest(part, "sha384") != sha384.lower():
            part.unlink()
            raise ValueError(f"SHA-384 of the download is not the published {sha384[:16]}...")
        part.replace(target)
    except Exception as exc:  # no network, proxy, disk full, bad hash: all end the same way
        raise WeightsUnavailableError(
            f"The {what} are not on this machine and could not be downloaded "
            f"({type(exc).__name__}: {str(exc)[:200]}).\n"
            f"  Either put the file {target.name} into {target.parent}/\n"
            f"  (from {url}),\n"
            f"  or {alternative}.") from None
    return target
