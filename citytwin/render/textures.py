"""Materials and texture images of a city model, drawn in the ``"texture"`` colour mode.

* **Materials** (X3DMaterial, CityJSON materials) become per-triangle RGBA:
  the diffuse colour, and ``1 - transparency`` as alpha.
* **Textures** (ParameterizedTexture, CityJSON textures): the textured
  triangles are grouped by image, one actor per image, every actor sharing the
  layer's ``vtkPoints`` and one per-point texture-coordinate array (vertices
  are per ring in :class:`~citytwin.model.geometry.MeshData`, so per-vertex uv
  is exact). Images are read once with VTK's ``vtkImageReader2Factory``.
* A triangle whose image is missing or unreadable, or whose vertices have no
  uv, falls back to its material colour, else its semantic colour; the missing
  images are reported once in :attr:`TextureSet.warnings`.

Everything is vectorised: the only Python loop is over distinct images.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyvista as pv
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray
from vtkmodules.vtkIOImage import vtkImageReader2Factory
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper, vtkTexture

from citytwin.model.geometry import MeshData
from citytwin.render.convert import polydata_from_arrays
from citytwin.render.style import Style, apply_surface_lighting


def cells_polydata(triangles: np.ndarray, cell: dict[str, np.ndarray], vtk_points: Any) -> pv.PolyData:
    """Like :func:`~citytwin.render.convert.polydata_from_arrays` on shared points, also for no triangles."""
    if len(triangles):
        return polydata_from_arrays(None, triangles, cell, vtk_points=vtk_points)
    pd = pv.PolyData()
    pd.SetPoints(vtk_points)
    pd.SetPolys(vtkCellArray())
    for name, values in cell.items():
        arr = numpy_to_vtk(np.ascontiguousarray(values), deep=True)
        arr.SetName(name)
        pd.GetCellData().AddArray(arr)
    pd.GetCellData().SetActiveScalars("colors")
    return pd


#: the RGBA a textured triangle carries in its cell colours (the texture is multiplied by it)
TEXTURE_WHITE = (255, 255, 255, 255)


def choose_theme(mesh: MeshData, theme: str | None = None) -> str | None:
    """The appearance theme to show: ``theme`` if the mesh has it, else the one covering most polygons.

    Polygons with a texture count double (a texture says more than a colour). ``None`` when the mesh
    has no appearance at all.
    """
    if not mesh.appearances:
        return None
    if theme is not None and theme in mesh.appearances:
        return theme

    def score(name: str) -> int:
        th = mesh.appearances[name]
        return int((th.material >= 0).sum()) + 2 * int((th.texture >= 0).sum())

    return max(sorted(mesh.appearances), key=score)


def appearance_coverage(mesh: MeshData, theme: str | None = None) -> float:
    """Fraction (0–1) of the polygons that have a material or a texture in a theme."""
    name = choose_theme(mesh, theme)
    if name is None or mesh.n_polygons == 0:
        return 0.0
    th = mesh.appearances[name]
    return float(((th.material >= 0) | (th.texture >= 0)).mean())


def material_colours(mesh: MeshData, theme: str | None, fallback: np.ndarray) -> np.ndarray:
    """``(T, 4)`` uint8: each triangle's material colour in a theme, ``fallback`` where it has none.

    The alpha is ``1 - transparency``.
    """
    out = np.array(fallback, dtype=np.uint8, copy=True)
    name = choose_theme(mesh, theme)
    if name is None or not mesh.materials or mesh.n_triangles == 0:
        return out
    table = np.array([[*m.diffuse, 1.0 - float(m.transparency or 0.0)] for m in mesh.materials], np.float64).reshape(
        -1, 4
    )
    lut = np.round(np.clip(table, 0.0, 1.0) * 255).astype(np.uint8)
    tri_mat = mesh.appearances[name].material[mesh.tri_polygon]
    has = (tri_mat >= 0) & (tri_mat < len(lut))
    out[has] = lut[tri_mat[has]]
    return out


def read_texture(path: str | Path) -> vtkTexture | None:
    """A ``vtkTexture`` (repeat, linear filter, mipmaps) of an image file, ``None`` if it cannot be read."""
    p = Path(path)
    if not p.is_file():
        return None
    factory = vtkImageReader2Factory()
    reader = factory.CreateImageReader2(str(p))
    if reader is None:
        return None
    reader.SetFileName(str(p))
    reader.Update()
    image = reader.GetOutput()
    dims = image.GetDimensions()
    if image.GetPointData().GetScalars() is None or dims[0] * dims[1] == 0:
        return None
    tex = vtkTexture()
    tex.SetInputData(image)
    tex.RepeatOn()
    tex.InterpolateOn()
    tex.MipmapOn()
    tex.EdgeClampOff()
    reader.SetOutput(None)  # let the reader go; the texture keeps the image
    return tex


@dataclass
class TextureSet:
    """The textured triangles of one appearance theme, grouped by image.

    Attributes
    ----------
    theme
        The theme shown.
    tri_texture
        ``(T,)`` int32 index into the mesh's textures of each triangle drawn textured, -1 elsewhere
        (no texture, an image that could not be read, or vertices without uv).
    textures
        texture index → ``vtkTexture`` for the images that were read.
    tcoords
        ``(V, 2)`` float32 per-vertex uv (0 where none).
    warnings
        One sentence about images that could not be read (empty when all were).
    mean_colours
        ``(n textures, 3)`` uint8 mean colour of each image read (grey for the others), for
        stand-ins that cannot show the image (the interaction proxy).
    """

    theme: str | None
    tri_texture: np.ndarray
    textures: dict[int, vtkTexture] = field(default_factory=dict)
    tcoords: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)
    mean_colours: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.uint8))

    @property
    def textured(self) -> np.ndarray:
        """``(T,)`` bool: the triangle is drawn with an image."""
        return self.tri_texture >= 0


def _resolve(path: str, base: Path | None) -> Path:
    p = Path(path)
    if not p.is_absolute() and base is not None:
        p = base / p
    return p


def load_textures(
    mesh: MeshData, theme: str | None = None, base: Path | None = None, cache: dict[str, Any] | None = None
) -> TextureSet:
    """Read the images of a theme and work out which triangles show them.

    Parameters
    ----------
    mesh
        The geometry with its appearances.
    theme
        The theme (default: :func:`choose_theme`).
    base
        Folder relative image paths are resolved against (the model file's folder).
    cache
        path → ``vtkTexture`` or ``None``, shared between calls so an image is read once.
    """
    name = choose_theme(mesh, theme)
    n_tri = mesh.n_triangles
    none = np.full(n_tri, -1, np.int32)
    if name is None:
        return TextureSet(None, none)
    th = mesh.appearances[name]
    if th.uv is None or not mesh.textures or n_tri == 0:
        return TextureSet(name, none)
    tri_tex = th.texture[mesh.tri_polygon].astype(np.int32)
    tri_tex[(tri_tex >= len(mesh.textures))] = -1
    uv = np.asarray(th.uv, np.float32)
    uv_ok = np.isfinite(uv).all(axis=1)
    tri_tex[~uv_ok[mesh.triangles].all(axis=1)] = -1
    cache = {} if cache is None else cache
    loaded: dict[int, vtkTexture] = {}
    missing: list[str] = []
    used = np.unique(tri_tex[tri_tex >= 0])
    for t in used.tolist():  # one iteration per distinct image
        path = str(_resolve(mesh.textures[t].path, base))
        if path not in cache:
            cache[path] = read_texture(path) if mesh.textures[t].path else None
        if cache[path] is None:
            missing.append(mesh.textures[t].path or "(no image name)")
        else:
            loaded[t] = cache[path]
    ok = np.zeros(len(mesh.textures), bool)
    ok[list(loaded)] = True
    lost = (tri_tex >= 0) & ~ok[np.maximum(tri_tex, 0)]
    tri_tex[lost] = -1
    warnings = []
    if missing:
        shown = ", ".join(sorted(set(missing))[:3])
        more = "" if len(set(missing)) <= 3 else ", …"
        warnings.append(
            f"{len(set(missing))} of {len(used)} texture images could not be read ({shown}{more}); "
            f"{int(lost.sum())} triangles show their material or surface colour instead."
        )
    tcoords = np.where(uv_ok[:, None], uv, 0.0).astype(np.float32)
    means = np.full((len(mesh.textures), 3), 200, np.uint8)
    for t, tex in loaded.items():
        means[t] = image_mean_colour(tex)
    return TextureSet(name, tri_tex, loaded, tcoords, warnings, means)


def image_mean_colour(texture: vtkTexture) -> np.ndarray:
    """``(3,)`` uint8 mean RGB of a texture's image (grey images repeated to RGB)."""
    image = texture.GetInput()
    px = vtk_to_numpy(image.GetPointData().GetScalars())
    px = px.reshape(len(px), -1).astype(np.float64)
    rgb = px[:, :3] if px.shape[1] >= 3 else np.repeat(px[:, :1], 3, axis=1)
    if image.GetPointData().GetScalars().GetDataTypeSize() > 1:  # 16-bit images
        rgb = rgb / 257.0
    return np.round(rgb.mean(axis=0)).clip(0, 255).astype(np.uint8)


class TextureActors:
    """One actor per texture image, sharing the layer's points and one texture-coordinate array.

    Parameters
    ----------
    textures
        What :func:`load_textures` found.
    triangles
        ``(T, 3)`` int32 of the whole mesh.
    vtk_points
        The layer's ``vtkPoints`` (shared, not copied).
    renderer
        The ``vtkRenderer``.
    style
        Lighting.
    """

    def __init__(
        self, textures: TextureSet, triangles: np.ndarray, vtk_points: vtkPoints, renderer: Any, style: Style
    ) -> None:
        self.textures = textures
        self.triangles = triangles
        self.vtk_points = vtk_points
        self.renderer = renderer
        self.style = style
        self._tcoords = pv.convert_array(np.ascontiguousarray(textures.tcoords), name="uv")
        #: texture index → (actor, polydata, triangle indices drawn)
        self.parts: dict[int, tuple[vtkActor, pv.PolyData, np.ndarray]] = {}
        for t, tex in textures.textures.items():
            pd = pv.PolyData()
            mapper = vtkPolyDataMapper()
            mapper.SetInputData(pd)
            mapper.ScalarVisibilityOn()
            mapper.SetScalarModeToUseCellFieldData()
            mapper.SelectColorArray("colors")
            mapper.SetColorModeToDirectScalars()
            actor = vtkActor()
            actor.SetMapper(mapper)
            actor.SetTexture(tex)
            apply_surface_lighting(actor.GetProperty(), style)
            actor.SetVisibility(False)
            renderer.AddActor(actor)
            self.parts[t] = (actor, pd, np.zeros(0, np.int64))

    @property
    def actors(self) -> list[vtkActor]:
        return [p[0] for p in self.parts.values()]

    def update(self, drawn: np.ndarray, colours: Callable[[np.ndarray], np.ndarray], visible: bool = True) -> None:
        """Draw the textured triangles among ``drawn`` (triangle indices).

        ``colours(idx)`` gives ``(len(idx), 4)`` uint8 cell colours; the texture is multiplied by
        them (white shows the image as it is; the selection tint shows through).
        """
        tri_tex = self.textures.tri_texture[drawn]
        sel = drawn[tri_tex >= 0]
        keys = tri_tex[tri_tex >= 0]
        order = np.argsort(keys, kind="stable")
        sel, keys = sel[order], keys[order]
        bounds = (
            np.searchsorted(keys, list(self.parts), side="left"),
            np.searchsorted(keys, list(self.parts), side="right"),
        )
        for (t, (actor, pd, _)), lo, hi in zip(self.parts.items(), *bounds, strict=True):
            idx = sel[lo:hi]
            new = cells_polydata(
                self.triangles[idx], {"tri_index": idx.astype(np.int32), "colors": colours(idx)}, self.vtk_points
            )
            new.GetPointData().SetTCoords(self._tcoords)
            pd.ShallowCopy(new)
            pd.GetCellData().SetActiveScalars("colors")
            pd.Modified()
            actor.SetVisibility(bool(visible and len(idx)))
            self.parts[t] = (actor, pd, idx)

    def refresh_colours(self, colours: Callable[[np.ndarray], np.ndarray]) -> None:
        """Rewrite the cell colours in place (selection changed)."""
        for _, pd, idx in self.parts.values():
            if len(idx):
                arr = pd.GetCellData().GetArray("colors")
                vtk_to_numpy(arr)[:] = colours(idx)
                arr.Modified()

    def set_visible(self, visible: bool) -> None:
        for actor, _, idx in self.parts.values():
            actor.SetVisibility(bool(visible and len(idx)))

    def set_opacity(self, opacity: float) -> None:
        for a in self.actors:
            a.GetProperty().SetOpacity(float(np.clip(opacity, 0.0, 1.0)))

    def remove(self) -> None:
        for a in self.actors:
            self.renderer.RemoveViewProp(a)
        self.parts = {}
