"""``citytwin sun-hours``: hours of direct sun for one day as a colour-mapped still, without a window."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from citytwin.errors import CityTwinError

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``sun-hours`` subcommand to the CLI's subparsers."""
    from citytwin.cli import _add_load_options, _view_names

    p = sub.add_parser(
        "sun-hours",
        help="hours of direct sun on the ground and facades for one day, as an image",
        description="Compute the hours of direct sun on the ground and on facades for one day and write "
        "them as a colour-mapped image with a legend. With --without, show what those layers change "
        "(red: less sun with them).",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="georeferenced data files or a .citytwin project")
    p.add_argument("-o", "--output", required=True, metavar="OUT.png", help="image to write (.png or .jpg)")
    p.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="the day (local calendar day of the place)")
    p.add_argument("--step", type=float, default=15.0, metavar="MIN", help="time step in minutes (default: 15)")
    p.add_argument("--grid", type=float, default=2.0, metavar="M", help="ground grid spacing in metres (default: 2)")
    p.add_argument("--no-facades", action="store_true", help="the ground only")
    p.add_argument("--without", action="append", default=[], metavar="LAYER",
                   help="also compute with this layer switched off and show the difference; repeat for more "
                   "(a file's layer is named after the file)")  # fmt: skip
    p.add_argument("--csv", default=None, metavar="OUT.csv", help="also write every sample point and its hours")
    p.add_argument("--size", default="1920x1080", metavar="WxH", help="image size (default: %(default)s)")
    p.add_argument("--view", default=None, choices=_view_names(), help="camera preset (default: top)")
    _add_load_options(p)
    p.set_defaults(handler=run)
    return p


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CityTwinError(f"--date {text!r} is not a date such as 2026-03-21.") from None


def run(args: argparse.Namespace) -> int:
    """Run ``citytwin sun-hours``; returns the exit status."""
    from citytwin.cli import _load_options, _progress_printer, _snapshot_scene
    from citytwin.render import stills
    from citytwin.render.sun_hours import add_sun_hours, compare_sun_hours, map_look, sun_hours

    out = Path(args.output)
    stills.check_still_path(out, False)
    size = stills.parse_size(args.size)
    day = _day(args.date)
    if not (args.step > 0 and args.grid > 0):
        raise CityTwinError("The time step and the grid must be larger than zero.")
    if args.grid < 0.25:
        raise CityTwinError("A grid finer than 0.25 m is too fine for sun hours; use 0.25 m or more.")
    scene, camera = _snapshot_scene(args.files, _load_options(args))
    scene.look = map_look(scene.look)
    options = {"grid": args.grid, "step_minutes": args.step, "facades": not args.no_facades}
    show = _progress_printer(out)

    def progress(done: int, total: int) -> None:
        if show is not None:
            show(done, total)

    if args.without:
        _, _, result = compare_sun_hours(scene, day, args.without, progress=progress, **options)
    else:
        result = sun_hours(scene, day, progress=progress, **options)
    if args.csv:
        result.to_csv(args.csv)

    def decorate(off: Any) -> None:
        add_sun_hours(off.plotter, result, off.origin, font_size=max(12, size[1] // 60))

    written = stills.export_still(
        scene, out, size, camera=camera if args.view is None else None, view=args.view or "top",
        decorate=decorate, reference_height=min(size[1], 1080),
    )  # fmt: skip
    print(result.describe(), file=sys.stderr)
    print(written)
    return 0
