"""What the command-line modules share: the options every command takes, argument types,
opening the engine or the models for a command, progress bars and JSON lines."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from desktop.engine import Settings


def progress(desc: str, total: int) -> Callable[[int, int], None]:
    """A tqdm bar on stderr driven by (done, total) callbacks."""
    from tqdm import tqdm
    bar = tqdm(total=total, desc=desc, unit="photo", file=sys.stderr, leave=False,
                disable=None)  # no bar when stderr is not a terminal

    def update(done: int, _total: int) -> None:
        bar.total = _total
        bar.n = done
        bar.refresh()
        if done >= _total:
            bar.close()
    return update


def open_engine(settings: Settings, **kwargs):
    """The engine for one command; the audit trail names the command line."""
    from desktop.engine import FaceEngine
    return FaceEngine(settings, frontend="cli", **kwargs)


def load_models(settings: Settings):
    """The networks alone, for commands that need no database (evaluate)."""
    from desktop.engine import Models
    return Models(settings)


def print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def common_options(suppress: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the command; after it they must not reset what
    was given before it, hence SUPPRESS defaults on the command's copy."""
    default: dict[str, Any] = {"default": argparse.SUPPRESS} if suppress else {}
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="DIR|URL", help="database folder (default faces_db/, "
                        "or $FACE_KIOSK_DB), or postgresql://user@host:port/dbname for a "
                        "store shared by several kiosks", **default)
    common.add_argument("--model", metavar="MODEL", help="face model: facenet (default), reid "
                        "(Intel's, more accurate and faster), dlib, fusion, or onnx:PATH, an "
                        "ArcFace-style .onnx file ($FACE_KIOSK_MODEL)", **default)
    common.add_argument("--weights", metavar="PATH|NAME",
                        help="FaceNet weights: vggface2 (default), casia-webface, or a "
                             "state_dict file ($FACENET_WEIGHTS)", **default)
    common.add_argument("--reid-weights", metavar="DIR", **default,
                        help="folder with the reid model's FP16/*.xml and .bin files "
                             "($FACE_KIOSK_REID_WEIGHTS; default: downloaded once)")
    common.add_argument("--device", help="auto (default), cpu or cuda:N", **default)
    common.add_argument("--antispoof-weights", metavar="DIR", **default,
                        help="folder with the two MiniFASNet liveness files (default: "
                             "downloaded once into torch's cache)")
    common.add_argument("--threshold", type=float, **default,
                        help="cosine similarity needed for a match (default: the database's)")
    common.add_argument("--min-face-size", type=positive, **default,
                        help="smallest face in pixels that detection looks for (default 40)")
    common.add_argument("--key-file", metavar="FILE", **default,
                        help="file with the database key, mode 0600 (or $FACE_KIOSK_KEY)")
    common.add_argument("-v", "--verbose", action="store_true", help="debug logging", **default)
    return common


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {value}")
    return value
