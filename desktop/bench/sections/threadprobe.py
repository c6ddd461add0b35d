"""One thread configuration in a process of its own: MTCNN and FaceNet on the 7-face frame,
quiet and then with one busy process beside it. Prints one JSON line.

A child process because libgomp reads OMP_WAIT_POLICY once, when torch is imported: the
policies cannot be compared inside one process. Run by ``threads.bench_threads``:

    python -m desktop.bench.sections.threadprobe --threads 1 --policy passive --weights PATH
"""
from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop.bench.sections.threadprobe")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="intra-op threads (default: one per core, torch's own default)")
    parser.add_argument("--policy", default="default", choices=("default", "passive", "active"))
    parser.add_argument("--spinning", action="store_true", help="onnxruntime workers spin")
    parser.add_argument("--weights", required=True)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    os.environ.pop("OMP_WAIT_POLICY", None)
    if args.policy != "default":
        os.environ["OMP_WAIT_POLICY"] = args.policy.upper()  # before torch is imported

    from desktop.bench import data
    from desktop.bench.options import faces_root
    from desktop.bench.util import busy_process, median_ms
    from desktop.engine.faces.embedders import load_embedder
    from desktop.engine.faces.networks import build_detector
    from desktop.engine.settings.file import load_settings
    settings = load_settings(os.environ.get("TMPDIR", "/tmp"), weights=args.weights,
                             torch_threads=args.threads, onnx_spinning=args.spinning,
                             omp_wait_policy=args.policy)
    embedder = load_embedder(settings)
    detector = build_detector(settings)
    frame = data.group_frame(faces_root())
    side = settings.live_detect_max_side
    faces = detector.detect(frame, side)
    crops = [embedder.crop(frame, d) for d in faces[:1]]
    result: dict[str, float | int | str] = {"faces": len(faces)}

    def measure(tag: str) -> None:
        result[f"detect_{tag}"], _ = median_ms(lambda: detector.detect(frame, side), args.runs, 2)
        result[f"embed_{tag}"], _ = median_ms(lambda: embedder.embed(crops), args.runs, 2)

    measure("quiet")
    with busy_process():
        measure("loaded")
    import torch
    result["torch_threads"] = torch.get_num_threads()
    result["policy"] = os.environ.get("OMP_WAIT_POLICY", "default").lower()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
