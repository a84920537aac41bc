"""The ``citytwin`` command: open the desktop window, or work without one.

::

    citytwin                         open the window on the bundled sample district
    citytwin FILE [FILE ...]         open the window on these files (or a .citytwin project)
    citytwin info FILE [--json]      what a file holds
    citytwin snapshot FILE ... -o out.png [--size 1920x1080] [--view oblique-ne] [--colour-by ATTR] [--pin X,Y,Z,TITLE]
    citytwin snapshot PROJECT.citytwin [--bookmark NAME] -o out.png
    citytwin snapshot FILE ... -o out.png [--look "White model"] [--sun 2026-03-21T15:00]
    citytwin render PROJECT.citytwin --tour NAME -o tour.mp4 [--size 1080p] [--fps 30] [--quality 7]
    citytwin render FILE ... [--orbit | --reveal] [--duration 10] -o orbit.mp4   (.mp4, .gif or a folder)
    citytwin render FILE ... --sun-study 2026-06-21 [--duration 20] -o sun.mp4   (sunrise to sunset)
    citytwin present PROJECT.citytwin    full-screen presenter mode (a loop of tours and bookmarks)

    all take --crs EPSG:28992 --offset X Y Z to place a mesh given in local coordinates

Importing this module stays cheap (no numpy, lxml, VTK or Qt): everything
heavy is imported by the subcommand that needs it. Bad input ends with one
sentence on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from citytwin.errors import CityTwinError

__all__ = ["main", "parse_size"]

PROG = "citytwin"
#: Exit status for bad input (files, options).
EXIT_BAD_INPUT = 2
#: Exit status when the desktop window cannot start.
EXIT_NO_GUI = 1
#: Output image types ``snapshot`` can write.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MAX_IMAGE_SIDE = 16384
_FALLBACK_VIEWS = ("top", "north", "east", "south", "west", "oblique-ne", "oblique-se", "oblique-sw", "oblique-nw")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {_one_line(message)} (see '{self.prog} --help').\n")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _fail(message: str | BaseException) -> int:
    print(f"{PROG}: {_one_line(message)}", file=sys.stderr)
    return EXIT_BAD_INPUT


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``"1920x1080"`` into ``(width, height)``.

    Raises
    ------
    citytwin.errors.CityTwinError
        If the text is not two positive whole numbers joined by ``x``, or a side
        exceeds :data:`MAX_IMAGE_SIDE`.
    """
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not m:
        raise CityTwinError(f"The size {text!r} is not of the form WIDTHxHEIGHT, for example 1920x1080.")
    w, h = int(m.group(1)), int(m.group(2))
    if not (1 <= w <= MAX_IMAGE_SIDE and 1 <= h <= MAX_IMAGE_SIDE):
        raise CityTwinError(f"The size {w}x{h} is outside 1 to {MAX_IMAGE_SIDE} pixels per side.")
    return w, h


def _view_names() -> tuple[str, ...]:
    try:
        from citytwin.render.camera import VIEW_NAMES
    except ImportError:  # the render package is optional for info
        return _FALLBACK_VIEWS
    return tuple(VIEW_NAMES)


def _add_load_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("what to load")
    g.add_argument("--lod-min", type=float, default=None, metavar="LOD", help="lowest LoD to keep (e.g. 1)")
    g.add_argument("--lod-max", type=float, default=None, metavar="LOD", help="highest LoD to keep (e.g. 2.2)")
    g.add_argument(
        "--types", default=None, metavar="T1,T2", help="keep only top-level objects of these types (Building,Road)"
    )
    g.add_argument(
        "--point-budget", type=int, default=None, metavar="N", help="point clouds: keep at most N points (5000000)"
    )
    g.add_argument(
        "--max-polygon-vertices",
        type=int,
        default=None,
        metavar="N",
        help="leave polygons of more vertices untriangulated, with a warning (20000)",
    )
    g = p.add_argument_group("georeferencing (meshes, which carry no CRS; wins over a <file>.crs.json sidecar)")
    g.add_argument("--crs", default=None, metavar="CRS", help="CRS of the coordinates, e.g. EPSG:28992")
    g.add_argument(
        "--offset",
        nargs=3,
        type=float,
        default=None,
        metavar=("X", "Y", "Z"),
        help="added to every vertex: places a mesh in local coordinates in --crs",
    )


def _load_options(args: argparse.Namespace) -> Any:
    """:class:`~citytwin.io.options.LoadOptions` from the command line (raises CityTwinError)."""
    from citytwin.io.options import LoadOptions
    from citytwin.model.semantics import lod_code

    kwargs: dict[str, Any] = {}
    for name in ("lod_min", "lod_max"):
        value = getattr(args, name)
        if value is None:
            continue
        try:
            lod_code(value)
        except ValueError:
            raise CityTwinError(f"--{name.replace('_', '-')} {value:g} is not a LoD between 0 and 4.") from None
        kwargs[name] = value
    if kwargs.get("lod_min", 0.0) > kwargs.get("lod_max", 4.9):
        raise CityTwinError("--lod-min is higher than --lod-max.")
    if args.types is not None:
        types = frozenset(t.strip() for t in args.types.split(",") if t.strip())
        if not types:
            raise CityTwinError("--types needs at least one object type, for example Building,Road.")
        kwargs["types"] = types
    for name in ("point_budget", "max_polygon_vertices"):
        value = getattr(args, name, None)
        if value is not None:
            if value < 1:
                raise CityTwinError(f"--{name.replace('_', '-')} needs a whole number of at least 1.")
            kwargs[name] = value
    crs = getattr(args, "crs", None)
    if crs is not None:
        kwargs["crs"] = _check_crs(crs)
    offset = getattr(args, "offset", None)
    if offset is not None:
        if not all(math.isfinite(v) for v in offset):
            raise CityTwinError("--offset needs three finite numbers X Y Z.")
        kwargs["offset"] = tuple(offset)
    return LoadOptions(**kwargs)


def _check_crs(text: str) -> str:
    """``text`` if it names a CRS (an EPSG code citytwin reads, or anything pyproj parses), else CityTwinError."""
    from citytwin.model.crs import CRS

    text = text.strip()
    if text and CRS.parse(text).epsg is not None:
        return text
    try:
        from pyproj import CRS as ProjCRS

        ProjCRS.from_user_input(text)
    except Exception:
        raise CityTwinError(f"--crs {text!r} is not a coordinate reference system (try EPSG:28992).") from None
    return text


def _read(path: str, options: Any) -> Any:
    from citytwin.io.registry import read

    return read(path, options)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Open 3D city models (CityGML, CityJSON, …), explore them and turn them into images.",
        epilog="Without a command, 'citytwin [FILE ...]' opens the desktop window on data files or a "
        ".citytwin project (on the sample district when no file is given).",
    )
    from citytwin._version import version

    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    info = sub.add_parser("info", help="say what a file holds", description="Say what a city-model file holds.")
    info.add_argument("file", metavar="FILE")
    info.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    _add_load_options(info)
    info.set_defaults(handler=_cmd_info)

    snap = sub.add_parser(
        "snapshot", help="render files to an image without a window", description="Render files to an image."
    )
    snap.add_argument("files", nargs="+", metavar="FILE")
    snap.add_argument("-o", "--output", required=True, metavar="OUT.png", help="image to write (.png or .jpg)")
    snap.add_argument("--size", default="1920x1080", metavar="WxH",
                      help="image size up to 8K: WIDTHxHEIGHT, 1080p, 4k or 8k (default: %(default)s)")  # fmt: skip
    snap.add_argument("--transparent", action="store_true", help="PNG with a transparent sky")
    snap.add_argument(
        "--view", default=None, choices=_view_names(),
        help="camera preset (default: a project's saved view, else oblique-ne)",
    )  # fmt: skip
    snap.add_argument("--colour-by", "--color-by", dest="colour_by", default=None, metavar="ATTR",
                      help="colour objects by this attribute, with a legend")  # fmt: skip
    snap.add_argument("--bookmark", default=None, metavar="NAME",
                      help="with a .citytwin project: render from this bookmark's view")  # fmt: skip
    snap.add_argument("--pin", action="append", default=[], metavar="X,Y,Z[,TITLE]",
                      help="draw a pin there (in the CRS of the first file); repeat for more. "
                      "A .citytwin project draws its own pins")  # fmt: skip
    _add_overlay_options(snap)
    _add_look_options(snap)
    _add_load_options(snap)
    snap.set_defaults(handler=_cmd_snapshot)

    rend = sub.add_parser(
        "render", help="render a tour to a video without a window",
        description="Render a camera tour of files or a .citytwin project to MP4, GIF or PNG frames.",
    )  # fmt: skip
    rend.add_argument("files", nargs="+", metavar="FILE")
    rend.add_argument("-o", "--output", required=True, metavar="OUT.mp4",
                      help="video to write: .mp4 (H.264), .gif, or a folder for PNG frames")  # fmt: skip
    which = rend.add_mutually_exclusive_group()
    which.add_argument("--tour", default=None, metavar="NAME", help="a tour of the .citytwin project")
    which.add_argument("--tour-file", default=None, metavar="TOUR.toml", help="a tour written as TOML")
    which.add_argument("--orbit", action="store_true", help="circle the whole scene once (the default)")
    which.add_argument("--reveal", action="store_true", help="from a high overview down to street level")
    which.add_argument("--sun-study", default=None, metavar="DATE", type=_day,
                       help="a high view while the sun moves from sunrise to sunset of this day (YYYY-MM-DD); "
                       "the data needs a CRS")  # fmt: skip
    rend.add_argument("--duration", type=float, default=10.0, metavar="S",
                      help="seconds, for --orbit, --reveal and --sun-study (default: %(default)s)")  # fmt: skip
    rend.add_argument("--size", default="1920x1080", metavar="WxH",
                      help="720p, 1080p, 4k or WIDTHxHEIGHT (default: %(default)s)")  # fmt: skip
    rend.add_argument("--fps", type=float, default=30, metavar="N", help="24, 25, 30 or 60 (default: %(default)s)")
    rend.add_argument("--quality", type=int, default=7, metavar="1-10", help="1 smallest to 10 best (default: 7)")
    _add_overlay_options(rend)
    _add_look_options(rend)
    _add_load_options(rend)
    rend.set_defaults(handler=_cmd_render)

    pres = sub.add_parser(
        "present", help="full-screen presenter mode on a project",
        description="Open a .citytwin project full screen and play its presentation (tours and bookmarks) "
        "in a loop. Keys: Page Down/Up or arrows for the next/previous stop, Space to pause, Esc to leave.",
    )  # fmt: skip
    pres.add_argument("project", metavar="PROJECT.citytwin")
    pres.set_defaults(handler=_cmd_present)

    from citytwin.cli_convert import add_parser as add_convert
    from citytwin.cli_sun_hours import add_parser as add_sun_hours

    add_sun_hours(sub)
    add_convert(sub)
    return parser


_COMMANDS = frozenset({"info", "snapshot", "render", "present", "sun-hours", "convert"})
_MAX_LISTED = 12


# ------------------------------------------------------------------ commands
def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    return str(value)


def _format_summary(name: str, summary: dict[str, Any]) -> str:
    """A few aligned lines for a person; unknown keys are shown as they are."""
    head = f"{name}: {summary.get('format', '?')} {summary.get('version') or ''}".rstrip()
    lines: list[tuple[str, str]] = []
    shown = {"format", "version", "crs_name", "vertical_crs"}
    crs = summary.get("crs")
    if "crs" in summary:
        text = crs or "unknown"
        if summary.get("vertical_crs"):
            text += f" + {summary['vertical_crs']}"
        if summary.get("crs_name") and summary.get("crs_name") != crs:
            text += f" ({summary['crs_name']})"
        lines.append(("CRS", text))
        shown.add("crs")
    b = summary.get("bounds")
    if "bounds" in summary:
        shown.add("bounds")
        if b and len(b) == 6:
            lines.append(("bounds", f"x {b[0]:.3f} … {b[3]:.3f}, y {b[1]:.3f} … {b[4]:.3f}, z {b[2]:.3f} … {b[5]:.3f}"))
            lines.append(("size", f"{b[3] - b[0]:.1f} × {b[4] - b[1]:.1f} × {b[5] - b[2]:.1f} m"))
        else:
            lines.append(("bounds", "empty"))
    objects = summary.get("objects")
    if isinstance(objects, dict):
        shown.add("objects")
        total = sum(objects.values())
        parts = ", ".join(f"{t} {n}" for t, n in sorted(objects.items(), key=lambda kv: (-kv[1], kv[0])))
        lines.append(("objects", f"{total} ({parts})" if parts else "none"))
    if "lods" in summary:
        shown.add("lods")
        lines.append(("LoDs", ", ".join(summary["lods"]) or "none"))
    if "polygons" in summary or "triangles" in summary:
        shown.update({"polygons", "triangles"})
        polygons, triangles = summary.get("polygons", 0), summary.get("triangles", 0)
        lines.append(("geometry", f"{polygons:,} polygons, {triangles:,} triangles"))
    if "attributes" in summary:
        shown.add("attributes")
        names = list(summary["attributes"])
        text = ", ".join(names[:_MAX_LISTED]) or "none"
        if len(names) > _MAX_LISTED:
            text += f", … ({len(names)} in all; --json lists them)"
        lines.append(("attributes", text))
    for key, value in summary.items():
        if key not in shown and key != "warnings":
            lines.append((key, value if isinstance(value, str) else json.dumps(value, default=_json_default)))
    warnings = summary.get("warnings") or []
    lines.append(("warnings", "none" if not warnings else warnings[0]))
    lines.extend(("", w) for w in warnings[1:])
    return "\n".join([head, *(f"  {k:<11}{v}" for k, v in lines)])


def _is_project(path: str) -> bool:
    return path.lower().endswith(".citytwin")


def _cmd_info(args: argparse.Namespace) -> int:
    if _is_project(args.file):
        return _project_info(args)
    options = _load_options(args)
    model = _read(args.file, options)
    summary = model.summary()
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2, default=_json_default))
    else:
        print(_format_summary(Path(args.file).name, summary))
    return 0


def _project_info(args: argparse.Namespace) -> int:
    from citytwin.io.project import project_summary, read_project

    summary = project_summary(read_project(args.file))
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 0
    lines = [f"{Path(args.file).name}: citytwin project (schema {summary['version']})"]
    for s in summary["sources"]:
        state = "" if s["found"] else "  (missing)"
        layer = s.get("layer") or {}
        shown = "hidden" if layer.get("visible") is False else "shown"
        lines.append(f"  source     {s['name']}: {s['path']}{state}, {shown}")
    if not summary["sources"]:
        lines.append("  sources    none")
    lines.append(f"  pins       {summary['pins']}")
    lines.append(f"  measures   {summary['measurements']}")
    names = summary["bookmarks"]
    listed = ", ".join(names[:_MAX_LISTED]) + (f", … ({len(names)} in all)" if len(names) > _MAX_LISTED else "")
    lines.append(f"  bookmarks  {listed or 'none'}")
    print("\n".join(lines))
    return 0


def _cmd_snapshot(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if out.suffix.lower() not in IMAGE_SUFFIXES:
        raise CityTwinError(f"The output {out.name!r} must end in {', '.join(IMAGE_SUFFIXES)}.")
    if out.is_dir():
        raise CityTwinError(f"The output {out} is a folder, not an image file.")
    try:
        from citytwin.render import stills
    except ImportError as exc:
        print(f"{PROG}: rendering is not available ({_one_line(exc)}).", file=sys.stderr)
        return EXIT_NO_GUI
    size = stills.parse_size(args.size)
    stills.check_still_path(out, args.transparent)
    options = _load_options(args)
    scene, camera = _snapshot_scene(args.files, options, args.bookmark)
    scene.pins.extend(_parse_pin(text, k) for k, text in enumerate(args.pin, start=len(scene.pins) + 1))
    if args.colour_by:
        _colour_by(scene, args.colour_by)
    if args.view is not None and camera is None:
        scene.camera = None  # an explicit preset wins over a project's saved view
    _apply_look(args, scene)
    overlays = _overlays(args, scene)
    written = stills.export_still(
        scene, out, size, camera=camera, view=args.view or "oblique-ne", transparent=args.transparent,
        overlays=overlays, base_dir=_base_dir(args.files), reference_height=min(size[1], 1080),
    )  # fmt: skip
    print(written)
    return 0


def _add_look_options(p: argparse.ArgumentParser) -> None:
    from citytwin.model.looks import LOOKS

    g = p.add_argument_group("look (wins over a project's own)")
    g.add_argument("--look", default=None, metavar="NAME",
                   help=f"a look preset: {', '.join(repr(n) for n in LOOKS)} (default: Daylight)")  # fmt: skip
    g.add_argument("--sun", default=None, metavar="DATE_TIME",
                   help="place the sun at this local time of the scene's location, e.g. 2026-03-21T15:00 "
                   "(an explicit UTC offset such as +01:00 is accepted too)")  # fmt: skip


def _apply_look(args: argparse.Namespace, scene: Any) -> None:
    """Put ``--look`` and ``--sun`` into the scene (one sentence for an unknown look, a bad date or no place)."""
    if getattr(args, "look", None) is not None:
        from citytwin.model.looks import look_by_name

        try:
            scene.look = look_by_name(args.look)
        except ValueError as exc:
            raise CityTwinError(str(exc)) from None
    if getattr(args, "sun", None) is not None:
        from citytwin.model.sun import parse_local_time, scene_lonlat, sun_unavailable_reason

        place = scene_lonlat(scene)
        if place is None:
            raise CityTwinError(sun_unavailable_reason(scene) or "The sun is unavailable for this scene.")
        try:
            scene.sun = parse_local_time(args.sun, *place)
        except ValueError as exc:
            raise CityTwinError(str(exc)) from None


def _colour_by(scene: Any, attribute: str) -> None:
    """Colour every city-model layer by ``attribute``, as the layer panel's Colour by does."""
    from citytwin.model.layers import CityModelLayer

    layers = [layer for layer in scene.layers if isinstance(layer, CityModelLayer)]
    if not any(attribute in layer.model.objects.attribute_names() for layer in layers):
        found = sorted({a for layer in layers for a in layer.model.objects.attribute_names()})
        listed = ", ".join(found[:_MAX_LISTED]) + (" …" if len(found) > _MAX_LISTED else "") or "none"
        raise CityTwinError(f"No object has the attribute {attribute!r} to colour by (there are {listed}).")
    for layer in layers:
        layer.colour_attribute = attribute
        layer.colour_mode = "attribute"


def _add_overlay_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("overlays (added to a project's own)")
    g.add_argument("--title", default=None, metavar="TEXT", help="a title at the top left")
    g.add_argument("--subtitle", default=None, metavar="TEXT", help="a line under the title")
    g.add_argument("--logo", default=None, metavar="IMAGE", help="a PNG or JPEG logo in a corner")
    g.add_argument("--logo-corner", default="top-right", metavar="CORNER",
                   choices=("top-left", "top-right", "bottom-left", "bottom-right"),
                   help="top-left, top-right, bottom-left or bottom-right (default: %(default)s)")  # fmt: skip
    g.add_argument("--legend", action="store_true", help="the legend of the thematic colouring")
    g.add_argument("--north-arrow", action="store_true", help="a north arrow")
    g.add_argument("--scale-bar", action="store_true", help="a scale bar")
    g.add_argument("--attribution", default=None, metavar="TEXT", help="a data attribution line")


def _overlays(args: argparse.Namespace, scene: Any) -> Any:
    """The scene's (project's) overlays with the command line's parts put in."""
    import msgspec

    from citytwin.model.overlays import overlay_settings

    parts: dict[str, Any] = {}
    if args.title is not None or args.subtitle is not None:
        parts["title"] = {"text": args.title or "", "subtitle": args.subtitle or ""}
    if args.logo is not None:
        logo = Path(args.logo)
        if not logo.is_file():
            raise CityTwinError(f"The logo {logo} does not exist.")
        parts["logo"] = {"path": str(logo.resolve()), "anchor": args.logo_corner}
    for name in ("legend", "north_arrow", "scale_bar"):
        if getattr(args, name):
            parts[name] = True
    if args.attribution is not None:
        parts["attribution"] = args.attribution
    base = scene.overlays
    if not parts:
        return base
    try:
        given = overlay_settings(**parts)
    except ValueError as exc:
        raise CityTwinError(str(exc)) from None
    return msgspec.structs.replace(base, **{name: getattr(given, name) for name in parts})


def _base_dir(files: Sequence[str]) -> Path | None:
    """The folder of the first project: its relative logo path is relative to it."""
    return next((Path(f).resolve().parent for f in files if _is_project(f)), None)


def _cmd_present(args: argparse.Namespace) -> int:
    if not _is_project(args.project):
        raise CityTwinError(f"{Path(args.project).name} is not a .citytwin project; presenter mode plays a project.")
    from citytwin.io.project import read_project

    project = read_project(args.project)  # a bad project is one sentence here, before any window
    if not project.tours and not project.bookmarks:
        raise CityTwinError(f"{Path(args.project).name} has no tour or bookmark to present.")
    try:
        from citytwin.ui.app import run
    except ImportError as exc:
        print(f"{PROG}: the desktop window cannot start ({_one_line(exc)}).", file=sys.stderr)
        return EXIT_NO_GUI
    return int(run([args.project], present=True) or 0)


def _video_size(text: str) -> tuple[int, int]:
    from citytwin.render.video import VIDEO_SIZES

    named = VIDEO_SIZES.get(text.strip().lower())
    return named if named is not None else parse_size(text)


def _cmd_render(args: argparse.Namespace) -> int:
    size = _video_size(args.size)
    out = Path(args.output)
    try:
        from citytwin.render.tour_export import export_tour
        from citytwin.render.video import VideoSettings
    except ImportError as exc:
        print(f"{PROG}: rendering is not available ({_one_line(exc)}).", file=sys.stderr)
        return EXIT_NO_GUI
    settings = VideoSettings(size, fps=args.fps, quality=args.quality)
    settings.checked(out)  # a bad size or suffix is refused before any file is read
    if args.tour is not None and not any(_is_project(f) for f in args.files):
        raise CityTwinError("--tour needs a .citytwin project among the files.")
    scene, _ = _snapshot_scene(args.files, _load_options(args))
    _apply_look(args, scene)
    tour = _tour_for(args, scene)
    report = export_tour(scene, tour, out, settings, overlays=_overlays(args, scene), base=_base_dir(args.files),
                         progress=_progress_printer(out))  # fmt: skip
    print(
        f"{report.path} ({report.frames} frames, {settings.size[0]}x{settings.size[1]} at {settings.fps:g} fps, "
        f"{report.seconds:.1f} s)"
    )
    return 0


def _tour_for(args: argparse.Namespace, scene: Any) -> Any:
    """The tour ``citytwin render`` plays: the project's, a TOML file's, or a preset over the scene."""
    if args.tour is not None:
        tours = list(getattr(scene, "tours", ()))
        found = next((t for t in tours if t.name == args.tour), None)
        if found is None:
            names = ", ".join(repr(t.name) for t in tours[:_MAX_LISTED]) or "none"
            raise CityTwinError(f"The project has no tour {args.tour!r} (it has {names}).")
        return found
    if args.tour_file is not None:
        from citytwin.io.tours_toml import read_tour

        return read_tour(args.tour_file)
    import numpy as np

    from citytwin.model.tour_presets import orbit, reveal_scene

    bounds = scene.bounds()
    if bounds is None:
        raise CityTwinError("There is nothing to fly around: no file gave anything to show.")
    if not (math.isfinite(args.duration) and 0.1 <= args.duration <= 3600):
        raise CityTwinError(f"--duration must be 0.1 to 3600 seconds, not {args.duration:g}.")
    b = np.asarray(bounds, float)
    if args.reveal:
        return reveal_scene(scene, duration=args.duration)
    if getattr(args, "sun_study", None) is not None:
        return _sun_study(scene, args.sun_study, args.duration)
    centre = (b[:3] + b[3:]) / 2
    radius = max(float(np.hypot(b[3] - b[0], b[4] - b[1])) * 0.75, 20.0)
    return orbit(centre, radius, height=radius * 0.6, duration=args.duration)


def _day(text: str) -> Any:
    """``--sun-study DATE``: a ``datetime.date`` from ``YYYY-MM-DD`` (argparse reports a bad one in one line)."""
    from datetime import date

    raw = text.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as 2026-03-21")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw} is not a possible date") from None


def _sun_study(scene: Any, day: Any, duration: float) -> Any:
    """``--sun-study DATE``: the sun-study preset for that day (one sentence when it cannot be made)."""
    from citytwin.model.tour_presets import sun_study

    try:
        return sun_study(scene, day, duration=duration, name=f"Sun study {day.isoformat()}")
    except ValueError as exc:
        message = str(exc)
        raise CityTwinError(message[:1].upper() + message[1:].rstrip(".") + ".") from None


def _progress_printer(out: Path) -> Any:
    """Progress on stderr when it is a terminal (one line, rewritten), silent otherwise."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        print(f"\r{out.name}: frame {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def _snapshot_scene(files: Sequence[str], options: Any, bookmark: str | None = None) -> tuple[Any, Any]:
    """The scene to draw and the camera (``None``: the scene's own or a preset view).

    Data files are read as they are and shown as the window shows a newly opened file; a
    project gives its sources (read with their own options) shown as it says, its pins,
    measurements and camera and, with ``bookmark``, that bookmark's camera.
    """
    from citytwin.model.scene import Scene
    from citytwin.render.scene_view import default_layer, scene_from_project

    scene = Scene()
    camera = None
    if bookmark is not None and not any(_is_project(f) for f in files):
        raise CityTwinError("--bookmark needs a .citytwin project among the files.")
    for f in files:
        if not _is_project(f):
            model = _read(f, options)
            layer = default_layer(Path(f).name, model)
            if layer is not None:
                scene.add_layer(layer, undoable=False)
            continue
        from citytwin.io.project import read_project, read_sources

        project = read_project(f)
        loaded, problems = read_sources(project)
        if not loaded:
            for problem in problems:
                print(f"{PROG}: {_one_line(problem)}", file=sys.stderr)
            raise CityTwinError(f"None of the data files of {Path(f).name} could be opened.")
        _, more = scene_from_project(project, loaded, into=scene)
        for problem in problems + more:
            print(f"{PROG}: {_one_line(problem)}", file=sys.stderr)
        if bookmark is not None and camera is None:
            found = project.bookmark(bookmark)
            if found is None:
                names = ", ".join(repr(b.name) for b in project.bookmarks[:_MAX_LISTED]) or "none"
                raise CityTwinError(f"{Path(f).name} has no bookmark {bookmark!r} (it has {names}).")
            camera = found.camera
    return scene, camera


def _parse_pin(text: str, number: int) -> Any:
    """``"X,Y,Z[,TITLE]"`` as a pin (the title defaults to "Pin N")."""
    from citytwin.model.annotations import make_pin

    parts = [p.strip() for p in text.split(",", 3)]
    try:
        xyz = [float(v) for v in parts[:3]]
        if len(xyz) != 3:
            raise ValueError
        return make_pin(xyz, parts[3] if len(parts) > 3 and parts[3] else f"Pin {number}")
    except ValueError:
        raise CityTwinError(f"--pin {text!r} is not X,Y,Z or X,Y,Z,TITLE with three finite numbers.") from None


def _run_gui(files: Sequence[str]) -> int:
    """Open the desktop window on files, or on the bundled sample when there are none."""
    for f in files:
        if f.startswith("-"):
            return _fail(f"Unknown option {f!r} (see '{PROG} --help').")
        p = Path(f)
        if not p.exists():
            return _fail(f"{p.name}: The file does not exist.")
    paths = list(files)
    if not paths:
        from citytwin.sample import sample_path

        sample = sample_path()
        paths = [str(sample)] if sample.is_file() else []
    try:
        from citytwin.ui.app import run
    except ImportError as exc:
        print(f"{PROG}: the desktop window cannot start ({_one_line(exc)}).", file=sys.stderr)
        return EXIT_NO_GUI
    return int(run(paths) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``citytwin`` command and return its exit status.

    Parameters
    ----------
    argv
        The arguments after the program name; ``sys.argv[1:]`` when ``None``.

    Returns
    -------
    int
        0 on success, 2 for bad input (one sentence on stderr), 1 when the
        window or the renderer cannot start, 130 when interrupted.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if not args_list or (args_list[0] not in _COMMANDS and not args_list[0].startswith("-")):
            return _run_gui(args_list)
        try:
            args = _build_parser().parse_args(args_list)
        except SystemExit as exc:  # --help, --version and usage errors (already printed)
            return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
        if getattr(args, "handler", None) is None:
            return _run_gui([])
        return int(args.handler(args))
    except CityTwinError as exc:
        return _fail(exc)
    except MemoryError:
        return _fail("There is not enough memory to do this; try a smaller point budget or a smaller file.")
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `citytwin info … | head`: the reader went away, which is fine
        _silence_stdout()
        return 0


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real stdout (captured in tests)
        pass
