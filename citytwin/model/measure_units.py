"""Measurements as a person reads them: values with the unit of the scene's CRS.

Pure Python (no Qt, no VTK): the measurement visual labels the view with
:func:`measurement_label`, the Measurements dock lists :func:`measurement_rows`.
Lengths are in the unit of the CRS the scene is drawn in (``scene.display_crs``:
metres for every UTM zone a latitude/longitude file is drawn in, feet for a
US State Plane CRS in feet).
"""

from __future__ import annotations

from citytwin.model.annotations import Measurement
from citytwin.model.crs import CRS

#: pyproj unit names → the symbol shown after a number
_SYMBOLS = {
    "metre": "m",
    "meter": "m",
    "metres": "m",
    "foot": "ft",
    "us survey foot": "US ft",
    "foot_us": "US ft",
    "international foot": "ft",
    "kilometre": "km",
}

#: what each kind is called in menus and lists
KIND_NAMES = {
    "distance": "Distance",
    "height": "Height difference",
    "area": "Area",
    "object-height": "Object height",
}


def length_unit(crs: CRS | None) -> str:
    """The symbol of a CRS's horizontal length unit (``"m"``, ``"ft"``, ``"US ft"``); ``"m"`` when unknown."""
    if crs is None or crs.epsg is None:
        return "m"
    try:
        from citytwin.model.crs import _horizontal

        axes = _horizontal(crs.epsg).axis_info
    except Exception:  # unknown code in this PROJ database
        return "m"
    if not axes or not axes[0].unit_name:
        return "m"
    name = axes[0].unit_name.strip()
    if name.lower() in ("degree", "grad", "radian"):
        return "m"  # a geographic CRS: the scene draws it in metres (its UTM zone)
    return _SYMBOLS.get(name.lower(), name)


def format_length(value: float, unit: str = "m") -> str:
    """``"12.34 m"`` (centimetres; thousands separated)."""
    return f"{value:,.2f} {unit}"


def format_area(value: float, unit: str = "m") -> str:
    """``"123.4 m²"``."""
    return f"{value:,.2f} {unit}²"


def measurement_rows(m: Measurement, unit: str = "m") -> list[tuple[str, str]]:
    """Every figure of a measurement as ``(name, text)``, in the order :meth:`Measurement.values` gives."""
    rows = []
    for name, value in m.values().items():
        text = format_area(value, unit) if "area" in name else format_length(value, unit)
        rows.append((name[:1].upper() + name[1:], text))
    return rows


def measurement_summary(m: Measurement, unit: str = "m") -> str:
    """The main figure, for a list: ``"12.34 m"``, ``"Δh 3.20 m"``, ``"45.00 m²"``."""
    if m.kind == "distance":
        return format_length(m.length_3d(), unit)
    if m.kind == "area":
        return format_area(m.area_3d(), unit)
    return format_length(m.height_difference(), unit)


def measurement_label(m: Measurement, unit: str = "m") -> str:
    """The label drawn in the view beside the measurement (one or two short lines)."""
    title = f"{m.title}\n" if m.title and not is_default_title(m.title) else ""
    if m.kind == "distance":
        text = f"{title}{format_length(m.length_3d(), unit)}"
        horizontal = m.length_horizontal()
        if abs(horizontal - m.length_3d()) >= 0.005:
            text += f"\nhorizontal {format_length(horizontal, unit)}"
        return text
    if m.kind == "height":
        return f"{title}Δh {format_length(m.height_difference(), unit)}"
    if m.kind == "object-height":
        return f"{title}height {format_length(m.height_difference(), unit)}"
    text = f"{title}{format_area(m.area_3d(), unit)}"
    projected = m.area_projected()
    if abs(projected - m.area_3d()) >= 0.005:
        text += f"\nprojected {format_area(projected, unit)}"
    return text


def default_title(kind: str, items) -> str:
    """``"Distance 3"``: the kind's name and the first number not yet taken by a measurement's title."""
    base = KIND_NAMES.get(kind, kind)
    used = {m.title for m in items}
    n = 1
    while f"{base} {n}" in used:
        n += 1
    return f"{base} {n}"


def is_default_title(title: str) -> bool:
    """Whether a title is one :func:`default_title` gives (the view's label then leaves it out)."""
    base, _, number = title.rpartition(" ")
    return number.isdigit() and base in KIND_NAMES.values()


def display_name(m: Measurement, items) -> str:
    """The name a list shows: the title, else the kind and its number among the measurements of that kind."""
    if m.title:
        return m.title
    n = 0
    for other in items:
        if other.kind == m.kind:
            n += 1
        if other.id == m.id:
            break
    return f"{KIND_NAMES.get(m.kind, m.kind)} {max(n, 1)}"


#: RGB 0–255 of each kind's lines (the Measurements dock shows the same colour)
KIND_COLOURS: dict[str, tuple[int, int, int]] = {
    "distance": (255, 214, 0),
    "height": (0, 200, 255),
    "area": (255, 128, 0),
    "object-height": (235, 80, 235),
}
