"""Draw citytwin's app icon: ``assets/citytwin.svg`` and a 256 px ``assets/citytwin.png``.

    .venv/bin/python packaging/make_icon.py

Deterministic: a few isometric blocks on a rounded blue square, written as SVG and
rasterised by Qt's SVG renderer. The committed files are its output; rerun it only
to change the design. Windows ``.ico`` and macOS ``.icns`` are made from the PNG at
build time (PyInstaller converts with Pillow).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "assets" / "citytwin.svg"
PNG = ROOT / "assets" / "citytwin.png"
SIZE = 256

#: (base centre x, base centre y, half width, height) of each block, drawn back to front
BLOCKS = ((128, 150, 34, 104), (82, 176, 28, 58), (172, 178, 30, 76), (128, 206, 26, 36))
FACES = ("#ffffff", "#d3e4fb", "#8db3ea")  # top, left, right


def _points(pts: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:g},{y:g}" for x, y in pts)


def block(cx: float, cy: float, w: float, h: float) -> str:
    """One isometric block as three SVG polygons (top, left and right faces).

    Parameters
    ----------
    cx, cy
        The centre of the block's base (its front-bottom corner is ``(cx, cy + w / 2)``).
    w
        Half the block's width on screen; the top diamond is ``w / 2`` high (2:1 isometric).
    h
        The block's height in pixels.

    Returns
    -------
    str
        Three ``<polygon>`` elements.
    """
    top = [(cx, cy - h - w / 2), (cx + w, cy - h), (cx, cy - h + w / 2), (cx - w, cy - h)]
    left = [(cx - w, cy - h), (cx, cy - h + w / 2), (cx, cy + w / 2), (cx - w, cy)]
    right = [(cx, cy - h + w / 2), (cx + w, cy - h), (cx + w, cy), (cx, cy + w / 2)]
    faces = zip((top, left, right), FACES, strict=True)
    return "".join(f'<polygon points="{_points(face)}" fill="{colour}"/>' for face, colour in faces)


def svg() -> str:
    """The icon as an SVG document (256 × 256)."""
    ground = [(28, 190), (128, 140), (228, 190), (128, 240)]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}">'
        '<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">'
        '<stop offset="0" stop-color="#2f80ed"/><stop offset="1" stop-color="#0b3d91"/></linearGradient></defs>'
        '<rect x="8" y="8" width="240" height="240" rx="44" fill="url(#sky)"/>'
        f'<polygon points="{_points(ground)}" fill="#ffffff" fill-opacity="0.18"/>'
        + "".join(block(*b) for b in BLOCKS)
        + "</svg>\n"
    )


def render_png(svg_path: Path, png_path: Path, size: int = SIZE) -> None:
    """Rasterise ``svg_path`` to a ``size`` × ``size`` PNG with a transparent background (Qt's SVG renderer)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(svg_path)).render(painter)
    painter.end()
    if not image.save(str(png_path), "PNG"):
        raise OSError(f"Could not write {png_path}.")


def main() -> int:
    """Write both files; returns the exit status."""
    SVG.write_text(svg(), encoding="utf-8")
    render_png(SVG, PNG)
    print(f"wrote {SVG.relative_to(ROOT)} and {PNG.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
