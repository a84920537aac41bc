"""A self-check of the frozen app: ``CITYTWIN_BUNDLE_CHECK=1 citytwin`` prints one JSON object and exits.

It answers what only the frozen interpreter can: whether every VTK class in
:func:`vtk_modules.needed_classes` resolves from the modules the bundle kept, whether
PROJ uses the bundled ``proj.db`` and reprojects, whether every reader module (which
the registry imports by name) came along, whether the package metadata (and so
``citytwin.__version__``) did, and where the sample district and the icon are.
Exit status 0 when every check passes, 1 otherwise. ``make package-test`` runs it;
it works from a source checkout too (``python packaging/bundle_check.py``), where
"frozen" is false.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

#: A point in EPSG:25832 (UTM 32N, on its central meridian) and where it lies in EPSG:4326 (lat, lon).
_UTM_POINT = (500_000.0, 5_700_000.0, 10.0)
_LAT_LON = (51.451182, 9.0)


def _vtk() -> dict[str, Any]:
    import vtk_modules

    missing = vtk_modules.missing_classes()
    loaded = sorted(m.split(".", 1)[1] for m in sys.modules if m.startswith("vtkmodules.vtk"))
    return {"ok": not missing, "missing_classes": missing, "modules_loaded": loaded}


def _proj() -> dict[str, Any]:
    import numpy as np
    import pyproj

    from citytwin.model.crs import CRS, reproject

    data_dir = pyproj.datadir.get_data_dir()
    bundle = getattr(sys, "_MEIPASS", None)
    inside = bundle is None or Path(data_dir).resolve().is_relative_to(Path(bundle).resolve())
    lat, lon, _z = reproject(np.array([_UTM_POINT]), CRS("EPSG:25832", 25832), CRS("EPSG:4326", 4326))[0]
    close = abs(lat - _LAT_LON[0]) < 1e-5 and abs(lon - _LAT_LON[1]) < 1e-5
    return {
        "ok": bool(close and inside and Path(data_dir, "proj.db").is_file()),
        "data_dir": data_dir,
        "PROJ_DATA": os.environ.get("PROJ_DATA"),
        "data_dir_in_bundle": inside,
        "proj_version": pyproj.proj_version_str,
        "reprojected": [round(float(lat), 6), round(float(lon), 6)],
        "expected": list(_LAT_LON),
    }


def _readers() -> dict[str, Any]:
    from citytwin.io.registry import readers

    missing = []
    for spec in readers():
        try:
            spec.load()
        except ImportError as exc:  # a reader module the bundle left out
            missing.append(f"{spec.name}: {exc}")
    return {"ok": not missing, "readers": [spec.name for spec in readers()], "missing": missing}


def _package() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    import citytwin
    from citytwin.sample import sample_path
    from citytwin.ui.app import icon_path

    try:
        metadata = version("citytwin")
    except PackageNotFoundError:
        metadata = None
    sample, icon = sample_path(), icon_path()
    return {
        "ok": bool(metadata) and metadata == citytwin.__version__ and sample.is_file() and icon.is_file(),
        "version": citytwin.__version__,
        "metadata_version": metadata,
        "sample": str(sample),
        "sample_found": sample.is_file(),
        "icon_found": icon.is_file(),
    }


def report() -> dict[str, Any]:
    """Run every check.

    Returns
    -------
    dict
        ``frozen``, ``ok`` (all checks passed) and one entry per check (``vtk``, ``proj``,
        ``readers``, ``package``), each with its own ``ok``; a check that raised carries ``error``.
    """
    out: dict[str, Any] = {"frozen": bool(getattr(sys, "frozen", False))}
    checks = {"vtk": _vtk, "proj": _proj, "readers": _readers, "package": _package}
    for name, check in checks.items():
        try:
            out[name] = check()
        except Exception as exc:  # a check that cannot even run is a failed check, with its reason
            out[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    out["ok"] = all(out[name]["ok"] for name in checks)
    return out


def main() -> int:
    """Print :func:`report` as JSON on stdout; returns 0 when every check passed, else 1."""
    result = report()
    print(json.dumps(result, indent=1))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    raise SystemExit(main())
