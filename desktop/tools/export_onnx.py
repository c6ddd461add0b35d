"""Export FaceNet to ONNX for ``--model onnx:PATH``.

    python -m desktop.tools.export_onnx --weights casia-webface --out facenet-casia.onnx

The file carries face_kiosk.* metadata (FaceNet's box + margin crop, 160 px, (x-127.5)/128),
so the kiosk embeds with it exactly as with the PyTorch model. Never commit .onnx files.
"""
from __future__ import annotations

import argparse
import sys

from desktop.engine import DEFAULTS, KioskError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop.tools.export_onnx",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=DEFAULTS.weights,
                        help="FaceNet weights: vggface2, casia-webface or a state_dict file")
    parser.add_argument("--out", required=True, metavar="FILE.onnx")
    args = parser.parse_args(argv)
    from desktop.engine.faces.embedders.export import export_facenet
    try:
        path = export_facenet(args.weights, args.out)
    except KioskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
