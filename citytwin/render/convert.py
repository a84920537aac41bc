"""Model arrays → one merged ``vtkPolyData`` per layer, in float32 relative to an origin.

Source coordinates are float64 and often large (``y = 5 400 000 m``); float32
has a 0.5 m step there. Every layer of a scene is therefore shifted by one
shared origin (:func:`choose_origin`) before the single cast to float32, which
keeps sub-millimetre precision over tens of kilometres.

All work is vectorised numpy: no per-object or per-polygon Python loop. The
cell data of the returned mesh:

``object``   int32, the most specific owning object (a ``RoofSurface`` when the file has one)
``root``     int32, its top-level object (the ``Building``)
``semantic`` uint8, :class:`~citytwin.model.semantics.SurfaceClass`
``lod``      uint8, LoD code (ten times the LoD)
``colors``   uint8 RGBA, the default look (:mod:`citytwin.render.style`)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvista as pv
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

from citytwin.model.cityobjects import CityObjects
from citytwin.model.geometry import MeshData
from citytwin.model.semantics import SurfaceClass
from citytwin.render.style import DEFAULT_STYLE, Style

CELL_ARRAYS = ("object", "root", "semantic", "lod", "colors")


def choose_origin(bounds: np.ndarray | list[float]) -> np.ndarray:
    """A float64 origin for a scene: the centre of the bounds in x/y, ``zmin`` in z, rounded to 1 m.

    Parameters
    ----------
    bounds
        ``[xmin, ymin, zmin, xmax, ymax, zmax]``; NaN bounds (an empty model) give ``[0, 0, 0]``.

    Returns
    -------
    numpy.ndarray
        ``(3,)`` float64.
    """
    b = np.asarray(bounds, dtype=np.float64)
    if b.shape != (6,) or not np.isfinite(b).all():
        return np.zeros(3)
    centre = np.array([(b[0] + b[3]) / 2, (b[1] + b[4]) / 2, b[2]])
    return np.round(centre)


def to_local(vertices: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """``(V, 3)`` float32 of ``vertices - origin``, subtracted in float64 then cast once."""
    return np.subtract(vertices, np.asarray(origin, np.float64)).astype(np.float32)


def triangle_normals_z(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """``(T,)`` z component of each triangle's unit normal (0 for degenerate triangles)."""
    if len(triangles) == 0:
        return np.zeros(0)
    a = vertices[triangles[:, 0]]
    n = np.cross(vertices[triangles[:, 1]] - a, vertices[triangles[:, 2]] - a)
    length = np.linalg.norm(n, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        nz = np.where(length > 0, n[:, 2] / length, 0.0)
    return nz


def object_roots(mesh: MeshData, objects: CityObjects | None) -> np.ndarray:
    """``(T,)`` int32 top-level object of each triangle (the triangle's own object without a table)."""
    tri_object = mesh.tri_object
    if objects is None or len(objects) == 0:
        return tri_object.astype(np.int32, copy=False)
    roots = objects.roots
    safe = np.clip(tri_object, 0, max(len(roots) - 1, 0))
    return np.where(tri_object >= 0, roots[safe], tri_object).astype(np.int32)


def lod_mask(tri_lod: np.ndarray, tri_root: np.ndarray, lod: int | None = None) -> np.ndarray:
    """Which triangles show at a LoD.

    Parameters
    ----------
    tri_lod
        ``(T,)`` LoD code per triangle.
    tri_root
        ``(T,)`` top-level object per triangle.
    lod
        A LoD code: keep only triangles of exactly that code. ``None`` (the default):
        for each top-level object keep its highest LoD, so a building with LoD1 and
        LoD2 shows LoD2 while a neighbour that only has LoD1 still shows.

    Returns
    -------
    numpy.ndarray
        ``(T,)`` bool.
    """
    tri_lod = np.asarray(tri_lod)
    if lod is not None:
        return tri_lod == lod
    if len(tri_lod) == 0:
        return np.zeros(0, bool)
    roots, inverse = np.unique(np.asarray(tri_root), return_inverse=True)
    best = np.zeros(len(roots), dtype=tri_lod.dtype)
    np.maximum.at(best, inverse, tri_lod)
    return tri_lod == best[inverse]


def base_colours(
    mesh: MeshData,
    objects: CityObjects | None,
    style: Style = DEFAULT_STYLE,
    vertices: np.ndarray | None = None,
) -> np.ndarray:
    """``(T, 4)`` uint8 RGBA default colour of each triangle.

    Classified triangles take their :class:`SurfaceClass` colour; unclassified ones
    the colour of their object's type, and unclassified faces of buildings are
    split into roofs (normal within 60° of vertical) and walls when
    :attr:`Style.roof_from_normals` is set.
    """
    sem = mesh.tri_semantic
    rgba = np.empty((len(sem), 4), np.uint8)
    rgba[:, 3] = 255
    rgba[:, :3] = style.surface_lut()[sem]
    none = sem == SurfaceClass.NONE
    if not none.any():
        return rgba
    tri_object = mesh.tri_object
    if objects is None or len(objects) == 0:
        rgba[none, :3] = style.default_object_colour
        return rgba
    obj_rgb = style.object_colours(objects.types, objects.parents)
    safe = np.clip(tri_object, 0, len(objects) - 1)
    rgba[none, :3] = obj_rgb[safe[none]]
    if style.roof_from_normals:
        building = style.building_like(objects.types)
        roots = objects.roots
        is_b = none & (building[safe] | building[roots[safe]])
        if is_b.any():
            verts = mesh.vertices if vertices is None else vertices
            nz = triangle_normals_z(verts, mesh.triangles[is_b])
            lut = style.surface_lut()
            idx = np.flatnonzero(is_b)
            rgba[idx, :3] = np.where((np.abs(nz) > 0.5)[:, None], lut[SurfaceClass.ROOF], lut[SurfaceClass.WALL])
    return rgba


@dataclass
class RenderArrays:
    """Everything a visual needs, as numpy arrays, for every triangle of a mesh.

    Attributes
    ----------
    points
        ``(V, 3)`` float32 relative to :attr:`origin`.
    triangles
        ``(T, 3)`` int32.
    cell
        Per-triangle arrays named as in :data:`CELL_ARRAYS`.
    origin
        ``(3,)`` float64.
    """

    points: np.ndarray
    triangles: np.ndarray
    cell: dict[str, np.ndarray]
    origin: np.ndarray

    @property
    def n_triangles(self) -> int:
        return len(self.triangles)


def render_arrays(
    mesh: MeshData,
    origin: np.ndarray,
    objects: CityObjects | None = None,
    style: Style = DEFAULT_STYLE,
) -> RenderArrays:
    """Per-triangle arrays of a whole mesh (every LoD), before any filtering."""
    points = to_local(mesh.vertices, origin)
    cell = {
        "object": mesh.tri_object.astype(np.int32, copy=False),
        "root": object_roots(mesh, objects),
        "semantic": mesh.tri_semantic.astype(np.uint8, copy=False),
        "lod": mesh.tri_lod.astype(np.uint8, copy=False),
        "colors": base_colours(mesh, objects, style, vertices=points),
    }
    tris = np.ascontiguousarray(mesh.triangles, dtype=np.int32).reshape(-1, 3)
    return RenderArrays(points, tris, cell, np.asarray(origin, np.float64))


def polydata_from_arrays(
    points: np.ndarray | pv.pyvista_ndarray,
    triangles: np.ndarray,
    cell: dict[str, np.ndarray],
    vtk_points: object | None = None,
) -> pv.PolyData:
    """A triangle ``PolyData`` built in one call, without per-cell Python work.

    Parameters
    ----------
    points
        ``(V, 3)`` float32 (ignored when ``vtk_points`` is given).
    triangles
        ``(T, 3)`` int32; the connectivity array is shared with VTK (fixed-size storage).
    cell
        Per-triangle arrays; ``"colors"`` becomes the active scalars.
    vtk_points
        An existing ``vtkPoints`` to share between several meshes of one layer.
    """
    faces = pv.CellArray.from_regular_cells(np.ascontiguousarray(triangles, dtype=np.int32))
    pd = pv.PolyData()
    if vtk_points is not None:
        pd.SetPoints(vtk_points)
    else:
        pd.points = np.ascontiguousarray(points, dtype=np.float32)
    pd.SetPolys(faces)
    cd = pd.GetCellData()
    for name, values in cell.items():
        pd.cell_data.set_array(np.ascontiguousarray(values), name)
    cd.SetActiveScalars("colors")
    return pd


def mesh_to_polydata(
    mesh: MeshData,
    origin: np.ndarray,
    lod: int | None = None,
    objects: CityObjects | None = None,
    style: Style = DEFAULT_STYLE,
) -> pv.PolyData:
    """One merged triangle mesh of a model, float32 relative to ``origin``.

    Parameters
    ----------
    mesh
        The model's geometry.
    origin
        ``(3,)`` float64 shared by every layer of the scene (:func:`choose_origin`).
    lod
        A LoD code (20 for LoD2): keep only triangles of that LoD. ``None``: each
        top-level object shows its highest LoD (see :func:`lod_mask`).
    objects
        The object table, for top-level grouping and type colours; without it every
        polygon's own object is its top-level object and unclassified faces are grey.
    style
        Colours.

    Returns
    -------
    pyvista.PolyData
        Only the vertices the kept triangles use; cell arrays ``object``, ``root``,
        ``semantic``, ``lod`` and RGBA ``colors``.
    """
    arrays = render_arrays(mesh, origin, objects, style)
    keep = lod_mask(arrays.cell["lod"], arrays.cell["root"], lod)
    tris = arrays.triangles[keep]
    cell = {k: v[keep] for k, v in arrays.cell.items()}
    used = np.zeros(len(arrays.points), bool)
    used[tris.ravel()] = True
    if used.all():
        points = arrays.points
    else:
        remap = np.cumsum(used, dtype=np.int64) - 1
        points = arrays.points[used]
        tris = remap[tris].astype(np.int32)
    return polydata_from_arrays(points, tris, cell)


def cell_colour_actor(polydata: Any) -> tuple[Any, Any]:
    """A mapper and actor drawing ``polydata`` with its per-cell uint8 ``colors`` array as they are."""
    mapper = vtkPolyDataMapper()
    mapper.SetInputData(polydata)
    # The points are float32 relative to the scene origin already: VTK's automatic shift and scale would
    # add nothing but a pass over every point at each upload (moving one building of 100,000: 200 → 40 ms).
    mapper.SetVBOShiftScaleMethod(vtkPolyDataMapper.DISABLE_SHIFT_SCALE)
    mapper.ScalarVisibilityOn()
    mapper.SetScalarModeToUseCellFieldData()
    mapper.SelectColorArray("colors")
    mapper.SetColorModeToDirectScalars()
    actor = vtkActor()
    actor.SetMapper(mapper)
    return mapper, actor
