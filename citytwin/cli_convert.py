"""``citytwin convert``: write a city model (optionally with a project's scenario applied) in another format."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from citytwin.errors import CityTwinError

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``convert`` subcommand to the CLI's subparsers."""
    from citytwin.cli import _add_load_options

    p = sub.add_parser(
        "convert",
        help="write a city model as CityJSON, CityJSONSeq or CityGML (with a scenario applied)",
        description="Write IN as OUT, in the format OUT's name asks for: .city.json (CityJSON 2.0), "
        ".city.jsonl (CityJSONSeq) or .gml (CityGML 2.0, or 3.0 with --citygml 3.0). Untouched objects keep "
        "everything they had. With --scenario, a scenario of a .citytwin project is applied first. What the "
        "target format cannot hold is listed on stderr.",
    )
    p.add_argument("input", metavar="IN", help="a CityJSON, CityJSONSeq or CityGML file")
    p.add_argument("output", metavar="OUT", help="the file to write (.city.json, .city.jsonl or .gml)")
    p.add_argument("--scenario", default=None, metavar="NAME", help="a scenario of --project, by name or id")
    p.add_argument("--project", default=None, metavar="P.citytwin", help="the project holding --scenario")
    p.add_argument("--citygml", default="2.0", choices=("2.0", "3.0"), help="CityGML version for .gml (default 2.0)")
    p.add_argument("--force", action="store_true",
                   help="allow OUT to be IN itself (a backup IN.bak is kept)")  # fmt: skip
    _add_load_options(p)
    p.set_defaults(handler=run)
    return p


def _scenario(args: argparse.Namespace) -> Any:
    if args.scenario is None:
        if args.project is not None:
            raise CityTwinError("--project is only used with --scenario NAME.")
        return None
    if args.project is None:
        raise CityTwinError("--scenario needs the --project it is saved in.")
    from citytwin.io.project import read_project

    project = read_project(args.project)
    found = next((s for s in project.scenarios if s.name == args.scenario), None) or next(
        (s for s in project.scenarios if s.id == args.scenario), None
    )
    if found is None:
        names = ", ".join(repr(s.name) for s in project.scenarios) or "none"
        raise CityTwinError(f"{Path(args.project).name} has no scenario {args.scenario!r} (it has {names}).")
    return found


def run(args: argparse.Namespace) -> int:
    """Run ``citytwin convert``; returns the exit status."""
    from citytwin.cli import _load_options, _read
    from citytwin.io.export import format_for, make_backup, write_scenario

    src, out = Path(args.input), Path(args.output)
    format_for(out)  # an unknown suffix is refused before anything is read
    same = out.exists() and src.exists() and out.resolve() == src.resolve()
    if same and not args.force:
        raise CityTwinError(f"{out.name} is the input file; write to a new file, or give --force to replace it.")
    scenario = _scenario(args)
    model = _read(str(src), _load_options(args))
    if same:
        backup = make_backup(src)
        print(f"Kept a backup of {src.name} as {backup.name}.", file=sys.stderr)
    result = write_scenario(model, scenario, out, citygml_version=args.citygml, allow_overwrite_source=same)
    for w in getattr(result, "warnings", []) or []:
        print(f"warning: {w}", file=sys.stderr)
    print(out)
    return 0
