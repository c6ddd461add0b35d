"""A person's pictures from the command line: ``faces NAME`` lists them (id, date,
source, similarity to the person's template, outliers marked), ``delete-face NAME ID``
erases one (engine/person_faces.py says what that guarantees)."""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from desktop.cli_common import open_engine, print_json
from desktop.engine import Settings


def cmd_faces(settings: Settings, args: argparse.Namespace) -> int:
    from desktop.engine.facade.person_faces import person_faces
    engine = open_engine(settings)
    pictures = person_faces(engine, args.name)
    for pic in pictures:
        if args.json:
            print_json(pic.to_json())
            continue
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(pic.created_at))
        mark = "  OUTLIER (probably someone else)" if pic.outlier else ""
        print(f"{pic.id}\t{when}\tsimilarity {pic.similarity:.3f}\t{pic.source}{mark}")
    return 0


def cmd_delete_face(settings: Settings, args: argparse.Namespace) -> int:
    from desktop.engine.facade.person_faces import delete_face
    engine = open_engine(settings)
    done = delete_face(engine, args.name, args.face_id)
    print(f"deleted picture {done.face_id} of {done.name} with its crop, vectors and index "
          f"entry; {done.remaining} picture(s) left, template rebuilt")
    return 0


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Register ``faces`` and ``delete-face`` with cli.py's ``add(name, func, help)``."""
    p = add("faces", cmd_faces, "a person's pictures: id, date, source, similarity, outliers")
    p.add_argument("name")
    p.add_argument("--json", action="store_true", help="one JSON object per picture and line")
    p = add("delete-face", cmd_delete_face,
            "delete one picture of a person (see `faces NAME` for the ids)")
    p.add_argument("name")
    p.add_argument("face_id", type=int, metavar="ID")
