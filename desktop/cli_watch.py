"""``watch SOURCE``: the live loop without a window, for checking a site's footage and
tuning settings (engine/watch.py does the work). One line per processed frame: text, or
JSON with ``--json``; events (check-ins, visitors) on lines of their own."""
from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable

from desktop.cli_common import open_engine, print_json
from desktop.engine import Settings


def cmd_watch(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when the source played to its end (or Ctrl+C), 1 when it could not be shown."""
    from desktop.engine import SourceState, SourceStatus, source_kind
    from desktop.engine.live.watch import Watched, Watcher, event_json, frame_json
    source_kind(args.source)  # a typo is a one-line error before the models load
    settings = dataclasses.replace(settings, loop_video=False)  # a file ends; Ctrl+C a camera

    def status(change: SourceStatus) -> None:
        if change.state is not SourceState.CONNECTING:
            print(f"{change.state.value}: {change.message}", file=sys.stderr, flush=True)

    watcher = Watcher(open_engine(settings), args.source, realtime=args.realtime,
                      record_attendance=not args.dry_run, on_status=status)
    visitors: set[str] = set()

    def show(watched: Watched) -> None:
        events = event_json(watched, visitors)
        if args.json:
            print_json(frame_json(watched))
            for event in events:
                print_json(event)
            return
        faces = ", ".join(_describe(t) for t in watched.recognition.tracks) or "no face"
        print(f"frame {watched.index} {watched.seconds:8.2f} s: {faces}", flush=True)
        for event in events:
            detail = event.get("name") or event.get("visitor")
            print(f"  {event['event']}: {detail}", flush=True)

    try:
        last = watcher.run(show)
    except KeyboardInterrupt:
        watcher.stop.set()
        return 0
    print(f"{watcher.frames} frame(s) processed", file=sys.stderr)
    return 1 if last is not None and last.state is SourceState.FAILED else 0


def _describe(track) -> str:
    box = ",".join(str(round(v)) for v in track.box)
    return f"#{track.id} {track.text} [{box}]"


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Register watch with cli.py's ``add(name, func, help)``."""
    p = add("watch", cmd_watch, "run the live loop on a camera, video, folder or stream "
            "without a window; one line per frame")
    p.add_argument("source", metavar="SOURCE",
                   help="camera index, video file, folder of photos, or stream URL")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--realtime", action="store_true", help="pace a file like a camera "
                   "(frames the loop cannot keep up with are skipped, as in the window)")
    p.add_argument("--dry-run", action="store_true",
                   help="record no attendance or visitors")
