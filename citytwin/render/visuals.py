"""Visuals: the VTK actors of one layer, driven by plain method calls (no Qt).

A visual owns one merged mesh and one actor per layer (never one actor per
building). Everything a user toggles works without re-converting the model:

* hiding a surface class or switching LoD re-selects the drawn triangles from
  arrays kept in memory: one boolean mask, one fancy index and one new
  ``vtkCellArray`` sharing the same ``vtkPoints`` (hidden cells cannot be
  skipped with VTK's ghost-cell flags: the OpenGL mapper still draws them);
* colour modes and selection overwrite the per-cell ``colors`` array in place;
* the ``"texture"`` colour mode shows materials as cell colours and texture images
  on one extra actor per image (:mod:`citytwin.render.textures`), and a mesh's vertex
  colours as per-point colours of the same merged mesh, interpolated across each triangle;
* while the camera moves, :meth:`CityModelVisual.set_interactive` swaps a big layer
  for a light box proxy (:mod:`citytwin.render.lod_proxy`).

Visual classes are found from the model's class through :func:`visual_class_for`
(walking the MRO, like napari's ``_vispy/utils/visual.py``), so point clouds and
meshes plug in with :func:`register_visual`.
"""

from __future__ import annotations

import functools
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyvista as pv
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkLookupTable, vtkPoints
from vtkmodules.vtkCommonDataModel import vtkStaticCellLocator
from vtkmodules.vtkRenderingAnnotation import vtkLegendBoxActor, vtkScalarBarActor

from citytwin.model.citymodel import CityModel
from citytwin.model.semantics import SurfaceClass
from citytwin.render import gpu_moves
from citytwin.render.camera import box_corners
from citytwin.render.colormap import (
    Thematic,
    colormap_lut,
    inherit_from_ancestors,
    ramp,
    robust_range,
    thematic_colours,
)
from citytwin.render.convert import cell_colour_actor, choose_origin, lod_mask, render_arrays, triangle_normals_z
from citytwin.render.lod_proxy import InteractionLOD
from citytwin.render.picking import PieceLocators, RayHit, display_ray, intersect
from citytwin.render.style import DEFAULT_STYLE, Style, apply_surface_lighting
from citytwin.render.textures import (
    TEXTURE_WHITE,
    TextureActors,
    TextureSet,
    cells_polydata,
    choose_theme,
    load_textures,
    material_colours,
)

ColourMode = Literal["semantic", "single", "attribute", "texture", "elevation"]


@functools.cache
def _proxy_executor() -> ThreadPoolExecutor:
    """One worker thread for interaction-proxy builds (made on first use)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="citytwin-proxy")


#: ``colour_mode="auto"`` shows appearances when at least this fraction of polygons has a material or texture
AUTO_APPEARANCE_FRACTION = 0.5
#: name of the per-point RGB array drawn for vertex colours
POINT_COLOURS = "point_colors"


def preferred_colour_mode(model: Any) -> ColourMode:
    """``"texture"`` for a mesh with vertex colours or when most polygons have a material or a texture.

    The colour mode a newly opened layer starts in (a textured LoD3 building shows its façade
    images, a coloured photogrammetry mesh its colours); ``"semantic"`` otherwise. Texture
    images the file names but that are missing on disk do not count: a model whose images
    were not shipped keeps its semantic colours.
    """
    mesh = getattr(model, "mesh", None)
    if mesh is None or mesh.n_polygons == 0:
        return "semantic"
    if np.shape(getattr(mesh, "vertex_colours", None)) == (len(mesh.vertices), 4) and mesh.n_triangles:
        return "texture"
    if not getattr(mesh, "appearances", None):
        return "semantic"
    name = choose_theme(mesh)
    if name is None:
        return "semantic"
    th = mesh.appearances[name]
    present = np.array([getattr(t, "exists", True) is not False for t in mesh.textures] + [False], bool)
    tex = np.asarray(th.texture)
    covered = (np.asarray(th.material) >= 0) | present[np.where(tex >= 0, tex, -1)]
    return "texture" if float(covered.mean()) >= AUTO_APPEARANCE_FRACTION else "semantic"


def renderer_of(target: Any) -> Any:
    """The ``vtkRenderer`` of a pyvista ``Plotter`` / ``QtInteractor``, or ``target`` itself."""
    return getattr(target, "renderer", target)


@dataclass(frozen=True)
class PickResult:
    """What is under a screen position.

    Attributes
    ----------
    object
        The most specific object (a ``RoofSurface`` where the file has one).
    root
        Its top-level object (the ``Building``).
    triangle
        Index into the model's ``mesh.triangles``.
    position
        ``(3,)`` picked point relative to the scene origin.
    """

    object: int
    root: int
    triangle: int
    position: np.ndarray


class BaseVisual:
    """What every layer visual offers the scene: actors, visibility, opacity, removal.

    Parameters
    ----------
    model
        The layer's model data.
    renderer
        A ``vtkRenderer`` or a pyvista plotter (the Qt viewport passes its ``QtInteractor``).
    origin
        ``(3,)`` float64 scene origin shared by every layer.
    style
        The look.
    """

    def __init__(self, model: Any, renderer: Any, origin: np.ndarray, style: Style = DEFAULT_STYLE) -> None:
        self.model = model
        self.renderer = renderer_of(renderer)
        self.origin = np.asarray(origin, np.float64)
        self.style = style
        self.actors: list[Any] = []

    def set_visible(self, visible: bool) -> None:
        """Show or hide every actor of the layer."""
        for a in self.actors:
            a.SetVisibility(bool(visible))

    @property
    def visible(self) -> bool:
        return bool(self.actors) and bool(self.actors[0].GetVisibility())

    def set_opacity(self, opacity: float) -> None:
        """Layer opacity, 0 (invisible) to 1 (opaque)."""
        for a in self.actors:
            prop = a.GetProperty()
            if prop is not None:
                prop.SetOpacity(float(np.clip(opacity, 0.0, 1.0)))

    def bounds(self) -> np.ndarray:
        """``[xmin, ymin, zmin, xmax, ymax, zmax]`` relative to the origin."""
        raise NotImplementedError

    def fit_points(self, max_points: int = 100_000) -> np.ndarray:
        """``(N, 3)`` points for framing the layer with a camera (relative to the origin).

        This base class gives the corners of :meth:`bounds`; visuals with geometry give
        (a sample of) what they draw.
        """
        b = self.bounds()
        return box_corners(b) if np.isfinite(b).all() else np.zeros((0, 3))

    def remove(self) -> None:
        """Take the actors out of the renderer."""
        for a in self.actors:
            self.renderer.RemoveViewProp(a)
        self.actors = []


class CityModelVisual(BaseVisual):
    """One merged surface mesh for a :class:`~citytwin.model.citymodel.CityModel`.

    Parameters
    ----------
    model
        The city model.
    renderer
        A ``vtkRenderer`` or a pyvista plotter.
    origin
        Scene origin; defaults to :func:`~citytwin.render.convert.choose_origin` of the model.
    style
        Colours and lighting.
    lod
        Initial LoD code; ``None`` shows each top-level object at its highest LoD.
    colour_mode
        Initial colour mode; ``"auto"`` is ``"texture"`` for a mesh with vertex colours or when
        most polygons have a material or texture (:attr:`preferred_colour_mode`), else ``"semantic"``.

    Attributes
    ----------
    warnings
        Problems met while drawing (texture images that could not be read), one sentence each.
    """

    def __init__(
        self,
        model: CityModel,
        renderer: Any,
        origin: np.ndarray | None = None,
        style: Style = DEFAULT_STYLE,
        lod: int | None = None,
        colour_mode: ColourMode | Literal["auto"] = "semantic",
    ) -> None:
        if origin is None:
            origin = choose_origin(model.bounds)
        super().__init__(model, renderer, origin, style)
        self.arrays = render_arrays(model.mesh, self.origin, model.objects, style)
        cell = self.arrays.cell
        self._vtk_points = vtkPoints()
        self._vtk_points.SetData(pv.convert_array(self.arrays.points))
        self._lod: int | None = lod
        self._lod_keep = lod_mask(cell["lod"], cell["root"], lod)
        self._hidden_classes = np.zeros(256, bool)
        self._hidden_types: frozenset[str] = frozenset()
        self._type_keep: np.ndarray | None = None  # (T,) bool, None when no type is hidden
        self._filter_keep: np.ndarray | None = None  # (T,) bool from set_object_filter, None: no filter
        self._edit_keep: np.ndarray | None = None  # (T,) bool from set_edit_hidden (a scenario's deletions)
        self._hide_keep: np.ndarray | None = None  # (T,) bool from set_hidden_ids (hidden in the view)
        self._override: np.ndarray | None = None  # (T, 4) colours of set_colour_override
        self._mode: ColourMode = "semantic"
        self._mode_colours = cell["colors"]
        self._selected_tris = np.zeros(self.arrays.n_triangles, bool)
        self.thematic: Thematic | None = None
        self.legend: Any | None = None
        self._drawn = np.zeros(0, np.int64)
        self._pick_pieces: PieceLocators | None = None  # of the main mesh's drawn triangles
        self._proxy_job: tuple[tuple[int, int], Future] | None = None  # a proxy build on the worker thread
        self.warnings: list[str] = []
        # triangles in the main actor (the drawn ones minus those drawn textured)
        self._main_idx = np.zeros(0, np.int64)
        self._synced_drawn: np.ndarray | None = None
        self._drawn_version = 0
        self._colour_version = 0
        self._visible = True
        self._textures: TextureSet | None = None
        self._texture_actors: TextureActors | None = None
        self._texture_cache: dict[str, Any] = {}
        self._texture_locators: dict[int, vtkStaticCellLocator] = {}
        self._lod_proxy: InteractionLOD | None = None
        self._proxy_key: tuple[int, int] | None = None
        self._tri_up: np.ndarray | None = None
        self._bounds: np.ndarray | None = None
        vc = getattr(model.mesh, "vertex_colours", None)
        # (V, 3) uint8 vertex RGB of the mesh; the per-point array drawn from it is made on first use
        self._vertex_rgb: np.ndarray | None = (
            np.ascontiguousarray(np.asarray(vc)[:, :3], dtype=np.uint8)
            if vc is not None and np.shape(vc) == (len(self.arrays.points), 4)
            else None
        )
        self._point_colours: Any | None = None
        # moving objects (transform_objects): the points as read, each point's one owner, points per object
        self._original_points: np.ndarray | None = None
        self._point_root: np.ndarray | None = None
        self._points_of_root: dict[int, np.ndarray] = {}
        # drawing moves on the GPU (gpu_moves): the mapper draws ``_draw_polydata``, whose points are
        # ``_base_points`` (as read, or as of the last time the moves outgrew the shader's slots);
        # ``_runs_of_root``: each moved object's points as runs of consecutive indices
        self._draw_polydata: pv.PolyData | None = None
        self._base_points: np.ndarray | None = None
        self._base_vtk_points: Any = None
        self._runs_of_root: dict[int, list[tuple[int, int]]] = {}
        self._base_box: tuple[np.ndarray, np.ndarray] = (np.zeros(3), np.zeros(3))
        self._moved_local: dict[int, np.ndarray] = {}  # root → model-coordinate transform of its points as read
        self._baked_local: dict[int, np.ndarray] = {}  # root → the transform already written into the base
        self._shader_moves: dict[int, np.ndarray] = {}  # root → what the shader applies on top of the base

        self.polydata = pv.PolyData()
        self.mapper, self.actor = cell_colour_actor(self.polydata)
        apply_surface_lighting(self.actor.GetProperty(), style)
        self.actors = [self.actor]
        self._rebuild_cells()
        self.renderer.AddActor(self.actor)
        # a subclass may rebuild the cells its own way: catch up before the next frame
        self._render_observer = self.renderer.AddObserver("StartEvent", self._before_render)
        if colour_mode == "auto":
            colour_mode = self.preferred_colour_mode
        if colour_mode != "semantic":
            self.set_colour_mode(colour_mode)

    # ------------------------------------------------------------ cells drawn
    @property
    def drawn_triangles(self) -> np.ndarray:
        """Indices (into ``mesh.triangles``) of the triangles currently drawn."""
        return self._drawn

    def _keep_mask(self) -> np.ndarray:
        """``(T,)`` bool: the triangles to draw (LoD, shown classes and types); subclasses add their filters here."""
        cell = self.arrays.cell
        keep = self._lod_keep & ~self._hidden_classes[cell["semantic"]]
        if self._type_keep is not None:
            keep &= self._type_keep
        if self._filter_keep is not None:
            keep &= self._filter_keep
        if self._edit_keep is not None:
            keep &= self._edit_keep
        if self._hide_keep is not None:
            keep &= self._hide_keep
        return keep

    def _rebuild_cells(self) -> None:
        self._apply_drawn(np.flatnonzero(self._keep_mask()))

    def _texture_mode_on(self) -> bool:
        return self._mode == "texture" and self._texture_actors is not None and self._override is None

    def _point_colours_on(self) -> bool:
        """Whether the main mesh is drawn with its vertex colours (``"texture"`` mode on a coloured mesh)."""
        return self._mode == "texture" and self._vertex_rgb is not None and self._override is None

    def set_colour_override(self, colours: np.ndarray | None) -> None:
        """Draw every triangle in these ``(T, 4)`` uint8 colours whatever the colour mode (a look's white
        model: no materials, textures or thematic colours); ``None`` draws the colour mode again."""
        if colours is None and self._override is None:
            return
        self._override = None if colours is None else np.asarray(colours, np.uint8)
        self._apply_drawn(self._drawn)

    def _apply_drawn(self, idx: np.ndarray) -> None:
        """Draw the triangles ``idx``: the main mesh, the texture actors, and mark the proxy stale."""
        cell = self.arrays.cell
        self._drawn = idx
        self._synced_drawn = idx
        self._drawn_version += 1
        main = idx
        if self._texture_mode_on():
            assert self._textures is not None
            main = idx[~self._textures.textured[idx]]
        self._main_idx = main
        sub = {k: v[main] for k, v in cell.items() if k != "colors"}
        sub["tri_index"] = main.astype(np.int32)
        sub["colors"] = self._display_colours(main)
        pd = cells_polydata(self.arrays.triangles[main], sub, self._vtk_points)
        if self._point_colours_on():
            pd.GetPointData().AddArray(self._point_colour_array())
            self.mapper.SetScalarModeToUsePointFieldData()
            self.mapper.SelectColorArray(POINT_COLOURS)
        else:
            self.mapper.SetScalarModeToUseCellFieldData()
            self.mapper.SelectColorArray("colors")
        self.polydata.ShallowCopy(pd)
        self.polydata.GetCellData().SetActiveScalars("colors")
        if self._point_colours_on():
            self._update_point_colours()
        self.polydata.Modified()
        if self._draw_polydata is not None:
            self._sync_draw_polydata()
        self._pick_pieces = None
        self._texture_locators = {}
        if self._texture_actors is not None:
            self._texture_actors.update(idx if self._texture_mode_on() else idx[:0], self._display_colours)
        self._apply_visibility()

    def _ensure_synced(self) -> None:
        """Catch up when a subclass rebuilt :attr:`polydata` itself (it only sets ``_drawn``)."""
        if self._drawn is self._synced_drawn:
            return
        if self._texture_mode_on() or self._point_colours_on():
            self._apply_drawn(self._drawn)
        else:  # the subclass built the same mesh this class would
            self._synced_drawn = self._drawn
            self._main_idx = self._drawn
            self._drawn_version += 1
            self._pick_pieces = None
            self._texture_locators = {}

    def _before_render(self, *_: Any) -> None:
        self._ensure_synced()
        if self.legend is not None:
            fit_legend(self.legend, self.renderer.GetSize())

    def _display_colours(self, idx: np.ndarray) -> np.ndarray:
        colours = (self._mode_colours if self._override is None else self._override)[idx].copy()
        sel = self._selected_tris[idx]
        if sel.any():
            m = float(self.style.selection_mix)
            tint = np.array([*self.style.selection, 255], np.float32)
            colours[sel] = np.round(colours[sel].astype(np.float32) * (1 - m) + tint * m).astype(np.uint8)
        return colours

    def _point_colour_array(self) -> Any:
        """The ``(V, 3)`` uint8 per-point colour array of the layer's shared points (made once)."""
        if self._point_colours is None:
            assert self._vertex_rgb is not None
            arr = numpy_to_vtk(self._vertex_rgb, deep=True)
            arr.SetName(POINT_COLOURS)
            self._point_colours = arr
        return self._point_colours

    def _update_point_colours(self) -> None:
        """Vertex colours into the per-point array, tinted on the selected triangles drawn.

        Vertices are per ring, so tinting a selected triangle's corners never tints a neighbour.
        """
        assert self._vertex_rgb is not None
        arr = self._point_colour_array()
        view = vtk_to_numpy(arr)
        view[:] = self._vertex_rgb
        main = self._main_idx
        sel = main[self._selected_tris[main]]
        if len(sel):
            corners = self.arrays.triangles[sel].ravel()
            m = float(self.style.selection_mix)
            tint = np.array(self.style.selection, np.float32)
            view[corners] = np.round(self._vertex_rgb[corners].astype(np.float32) * (1 - m) + tint * m).astype(np.uint8)
        arr.Modified()

    def _refresh_colours(self) -> None:
        self._ensure_synced()
        self._colour_version += 1
        arr = self.polydata.GetCellData().GetArray("colors")
        view = vtk_to_numpy(arr)
        view[:] = self._display_colours(self._main_idx)
        arr.Modified()
        if self._point_colours_on():
            self._update_point_colours()
        if self._texture_actors is not None:
            self._texture_actors.refresh_colours(self._display_colours)

    # ------------------------------------------------------------- visibility
    def set_visible(self, visible: bool) -> None:
        """Show or hide the layer (the main mesh, texture images and interaction proxy alike)."""
        self._visible = bool(visible)
        self._apply_visibility()

    @property
    def visible(self) -> bool:
        return bool(self.actors) and self._visible

    def _apply_visibility(self) -> None:
        proxy = self._lod_proxy is not None and self._lod_proxy.active
        self.actor.SetVisibility(self._visible and not proxy)
        if self._texture_actors is not None:
            self._texture_actors.set_visible(self._visible and not proxy and self._texture_mode_on())
        if self._lod_proxy is not None:
            self._lod_proxy.actor.SetVisibility(self._visible and proxy)

    # ------------------------------------------------------------- toggles
    def set_semantic_visible(self, cls: SurfaceClass | int, visible: bool) -> None:
        """Show or hide every surface of one semantic class (roofs, walls …)."""
        code = int(cls)
        if self._hidden_classes[code] == (not visible):
            return
        self._hidden_classes[code] = not visible
        self._rebuild_cells()

    def semantic_visible(self, cls: SurfaceClass | int) -> bool:
        return not bool(self._hidden_classes[int(cls)])

    def set_hidden_types(self, types: frozenset[str] | set[str] | list[str] | tuple[str, ...]) -> None:
        """Hide every top-level object whose type is in ``types`` (``"SolitaryVegetationObject"`` …).

        The parts of a hidden object (its roofs, walls …) go with it. Only the drawn triangles are
        re-selected: no geometry is rebuilt. Pass an empty set to show every type again.
        """
        types = frozenset(str(t) for t in types)
        if types == self._hidden_types:
            return
        self._hidden_types = types
        objects = self.model.objects
        if not types or len(objects) == 0:
            self._type_keep = None
        else:
            hidden_obj = np.isin(np.asarray(objects.types, dtype=object).astype(str), sorted(types))
            if not hidden_obj.any():
                self._type_keep = None
            else:
                roots = self.arrays.cell["root"]
                ok = (roots >= 0) & (roots < len(hidden_obj))
                keep = np.ones(len(roots), bool)
                keep[ok] = ~hidden_obj[roots[ok]]
                self._type_keep = keep
        self._rebuild_cells()

    def set_object_filter(self, shown: np.ndarray | None) -> None:
        """Draw only the objects where ``shown`` (``(N,)`` bool over the object table) is True.

        A tour's animated attribute filter uses it ("city growth"). A part goes with its own
        entry; pass values inherited from the parent object to filter whole buildings. ``None``
        shows every object again. Only the drawn triangles are re-selected.
        """
        if shown is None:
            if self._filter_keep is None:
                return
            self._filter_keep = None
        else:
            shown = np.asarray(shown, bool)
            objs = self.arrays.cell["object"]
            ok = (objs >= 0) & (objs < len(shown))
            keep = np.ones(len(objs), bool)
            keep[ok] = shown[objs[ok]]
            if self._filter_keep is not None and np.array_equal(keep, self._filter_keep):
                return
            self._filter_keep = keep
        self._rebuild_cells()

    @property
    def hidden_types(self) -> frozenset[str]:
        """The top-level object types hidden by :meth:`set_hidden_types`."""
        return self._hidden_types

    def set_lod(self, lod: int | None) -> None:
        """Show one LoD code (``20`` for LoD2), or ``None`` for each object's highest."""
        if lod == self._lod:
            return
        self._lod = lod
        cell = self.arrays.cell
        self._lod_keep = lod_mask(cell["lod"], cell["root"], lod)
        self._rebuild_cells()

    @property
    def lod(self) -> int | None:
        return self._lod

    @property
    def colour_mode(self) -> ColourMode:
        return self._mode

    def set_colour_mode(
        self,
        mode: ColourMode,
        *,
        colour: tuple[int, int, int] | None = None,
        attribute: str | None = None,
        cmap: str = "viridis",
        clim: tuple[float, float] | None = None,
        kind: Literal["numeric", "categorical"] | None = None,
        legend: bool = True,
        theme: str | None = None,
    ) -> Thematic | None:
        """Colour by semantic class, with one colour, by an attribute, or with the file's appearance.

        Parameters
        ----------
        mode
            ``"semantic"`` (the default look), ``"single"``, ``"attribute"``, ``"texture"``
            (materials and texture images of an appearance theme, and a mesh's vertex colours,
            smoothly interpolated; surfaces without any, or whose image cannot be read, keep
            their semantic colour; see :attr:`warnings`) or
            ``"elevation"`` (each triangle by the height of its centre, e.g. for terrain).
        colour
            RGB for ``"single"`` (default :attr:`Style.single_colour`).
        attribute, cmap, clim, kind
            For ``"attribute"``: see :func:`~citytwin.render.colormap.thematic_colours`;
            ``cmap`` and ``clim`` also for ``"elevation"`` (default range: 1st–99th percentile).
        legend
            Add a legend (scalar bar or category box) to the renderer in ``"attribute"`` mode.
        theme
            For ``"texture"``: the appearance theme (default: the one covering most polygons,
            see :func:`~citytwin.render.textures.choose_theme`).

        Returns
        -------
        Thematic or None
            The thematic colouring (legend data, count without value) in ``"attribute"`` mode.
        """
        self._remove_legend()
        self.thematic = None
        cell = self.arrays.cell
        was_texture = self._texture_mode_on() or self._point_colours_on()
        if mode == "texture":
            textures = self._load_textures(theme)
            rgba = material_colours(self.model.mesh, textures.theme, cell["colors"])
            if self._vertex_rgb is not None and len(rgba):
                # a triangle's cell colour (what the interaction proxy shows) is the mean of its corners
                vc, tri = np.asarray(self.model.mesh.vertex_colours), self.arrays.triangles
                total = vc[tri[:, 0]].astype(np.uint16) + vc[tri[:, 1]] + vc[tri[:, 2]]
                rgba[:] = ((total + 1) // 3).astype(np.uint8)
            rgba[textures.textured] = TEXTURE_WHITE
            self._mode_colours = rgba
        elif mode == "semantic":
            self._mode_colours = cell["colors"]
        elif mode == "single":
            rgba = np.empty_like(cell["colors"])
            rgba[:, :3] = colour if colour is not None else self.style.single_colour
            rgba[:, 3] = 255
            self._mode_colours = rgba
        elif mode == "attribute":
            if not attribute:
                raise ValueError("colour mode 'attribute' needs an attribute name")
            objects = self.model.objects
            th = thematic_colours(
                objects,
                attribute,
                kind=kind,
                cmap=cmap,
                clim=clim,
                neutral=self.style.neutral,
                geometry_objects=self.model.mesh.poly_object,
            )
            rgba = np.empty_like(cell["colors"])
            rgba[:, 3] = 255
            if len(objects):
                safe = np.clip(cell["object"], 0, len(objects) - 1)
                rgba[:, :3] = th.object_colours[safe]
            else:
                rgba[:, :3] = self.style.neutral
            self._mode_colours = rgba
            self.thematic = th
            if legend:
                self.legend = legend_actor(th, self.style)
                self.renderer.AddViewProp(self.legend)
        elif mode == "elevation":
            mesh = self.model.mesh
            z = mesh.vertices[:, 2][mesh.triangles].mean(axis=1) if mesh.n_triangles else np.zeros(0)
            rng = clim if clim is not None else (robust_range(z, 1.0, 99.0) if len(z) else (0.0, 1.0))
            rgba = np.empty_like(cell["colors"])
            rgba[:, :3] = ramp(z - rng[0], (0.0, rng[1] - rng[0]), colormap_lut(cmap, 256))
            rgba[:, 3] = 255
            self._mode_colours = rgba
            self.thematic = Thematic(
                "Elevation (m)", "numeric", np.zeros((0, 3), np.uint8), np.zeros(0, bool), clim=rng, cmap=cmap
            )
            if legend:
                self.legend = legend_actor(self.thematic, self.style)
                self.renderer.AddViewProp(self.legend)
        else:
            raise ValueError(f"unknown colour mode {mode!r}")
        self._mode = mode
        # textured triangles move between actors; vertex colours switch the mapper to point colours
        if was_texture or self._texture_mode_on() or self._point_colours_on():
            self._ensure_synced()
            self._colour_version += 1
            self._apply_drawn(self._drawn)
        else:
            self._refresh_colours()
        return self.thematic

    # ------------------------------------------------------------- textures
    @property
    def preferred_colour_mode(self) -> ColourMode:
        """``"texture"`` when most polygons have a material or a texture, else ``"semantic"``."""
        return preferred_colour_mode(self.model)

    @property
    def texture_actors(self) -> list[Any]:
        """The actors drawing texture images (one per image), empty until ``"texture"`` mode is used."""
        return [] if self._texture_actors is None else self._texture_actors.actors

    def _load_textures(self, theme: str | None) -> TextureSet:
        if self._textures is not None and (theme is None or theme == self._textures.theme):
            return self._textures
        source = getattr(self.model, "source", None)
        base = None if source is None else Path(source).parent
        textures = load_textures(self.model.mesh, theme, base, self._texture_cache)
        for w in textures.warnings:
            if w not in self.warnings:
                self.warnings.append(w)
        if self._texture_actors is not None:
            for a in self._texture_actors.actors:
                self.actors.remove(a)
            self._texture_actors.remove()
            self._texture_actors = None
        self._textures = textures
        if textures.textures:
            self._texture_actors = TextureActors(
                textures, self.arrays.triangles, self._vtk_points, self.renderer, self.style
            )
            opacity = self.actor.GetProperty().GetOpacity()
            self._texture_actors.set_opacity(opacity)
            self.actors.extend(self._texture_actors.actors)
        return textures

    # ------------------------------------------------------------ interaction
    @property
    def interaction_lod(self) -> InteractionLOD:
        """The proxy drawn while the camera moves (created on first use; tune its ``triangle_budget``)."""
        if self._lod_proxy is None:
            self._lod_proxy = InteractionLOD(self.renderer, self.style)
            self._lod_proxy.actor.GetProperty().SetOpacity(self.actor.GetProperty().GetOpacity())
            self.actors.append(self._lod_proxy.actor)
        return self._lod_proxy

    @property
    def interactive(self) -> bool:
        """Whether the interaction proxy is drawn instead of the full mesh."""
        return self._lod_proxy is not None and self._lod_proxy.active

    def set_interactive(self, interactive: bool) -> bool:
        """Draw a light proxy while the camera moves (``True``), the full mesh again when it stops.

        Call it from the interactor's ``StartInteractionEvent`` / ``EndInteractionEvent`` (or
        mouse press / release). Layers lighter than the proxy's triangle budget keep drawing
        the full mesh. The proxy follows the camera on its own (it re-selects its boxes at the
        start of every frame while active). Returns whether the proxy is now drawn.
        """
        if not interactive:
            if self._lod_proxy is not None and self._lod_proxy.active:
                self._lod_proxy.stop()
                self._apply_visibility()
            return False
        self._ensure_synced()
        lod = self.interaction_lod
        if not lod.worth_it(len(self._drawn)):
            return False
        key = (self._drawn_version, self._colour_version)
        self._join_proxy_job()  # a build begun by the warm-up: wait for it rather than start another
        if key != self._proxy_key:
            self._build_proxy()
            self._proxy_key = key
        lod.start()
        self._apply_visibility()
        return True

    def warm_up_step(self) -> bool:
        """Build, one piece per call, what the first pick and the first drag need.

        The pick locator of the drawn mesh, then the interaction proxy (when the layer is heavy
        enough to use one). Each call does at most one piece and returns whether pieces are left,
        so a GUI can run it from an idle timer between events (VTK keeps Python's GIL while it
        builds a locator: a worker thread would freeze the GUI just the same).
        """
        self._ensure_synced()
        if len(self._main_idx) and not self._main_pick_pieces().done:
            self._main_pick_pieces().build_step()
            return self._warm_up_left()
        if not self._warm_up_left():
            return False
        if self._tri_up is None:
            self._tri_up = self._faces_up()
            return True
        # The proxy is numpy work (which lets go of the GIL): build it on a worker thread.
        key = (self._drawn_version, self._colour_version)
        job = self._proxy_job
        if job is None or job[0] != key:
            self._join_proxy_job()
            lod = self.interaction_lod  # made here: it adds its actor to the renderer
            self._proxy_job = (key, _proxy_executor().submit(lod.build, *self._proxy_inputs()))
            return True
        if not job[1].done():
            return True
        self._join_proxy_job()
        return False

    def _join_proxy_job(self) -> None:
        """Wait for a proxy build running on the worker thread (if any) and take its result."""
        job, self._proxy_job = self._proxy_job, None
        if job is not None:
            job[1].result()  # re-raises what went wrong there
            self._proxy_key = job[0]

    def _warm_up_left(self) -> bool:
        if len(self._main_idx) and (self._pick_pieces is None or not self._pick_pieces.done):
            return True
        n = len(self._drawn)
        if n == 0 or not self.interaction_lod.worth_it(n):
            return False
        return self._proxy_key != (self._drawn_version, self._colour_version)

    def _main_pick_pieces(self) -> PieceLocators:
        if self._pick_pieces is None:
            main = self._main_idx
            self._pick_pieces = PieceLocators(
                main, self.arrays.triangles[main], self._vtk_points, coords=self.arrays.points
            )
        return self._pick_pieces

    @staticmethod
    def _new_locator(data: Any) -> vtkStaticCellLocator:
        loc = vtkStaticCellLocator()
        loc.SetDataSet(data)
        loc.BuildLocator()
        return loc

    def _faces_up(self) -> np.ndarray:
        """Roofs, and unclassified faces facing up or down (terrain, flat roofs)."""
        sem = self.arrays.cell["semantic"]
        up = sem == SurfaceClass.ROOF
        none = np.flatnonzero(sem == SurfaceClass.NONE)
        up[none] = np.abs(triangle_normals_z(self.arrays.points, self.arrays.triangles[none])) > 0.5
        return up

    def _build_proxy(self) -> None:
        self.interaction_lod.build(*self._proxy_inputs())

    def _proxy_inputs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """What :meth:`InteractionLOD.build` takes for the drawn triangles (fresh arrays, safe to hand to a thread)."""
        idx = self._drawn
        if self._tri_up is None:
            self._tri_up = self._faces_up()
        colours = self._display_colours(idx)
        if self._texture_mode_on():  # a textured face counts with its image's mean colour
            assert self._textures is not None
            tex = self._textures.tri_texture[idx]
            on = tex >= 0
            colours[on, :3] = self._textures.mean_colours[tex[on]]
        every = len(idx) == self.arrays.n_triangles
        return (
            self.arrays.points,
            self.arrays.triangles if every else self.arrays.triangles[idx],
            self.arrays.cell["root"] if every else self.arrays.cell["root"][idx],
            colours,
            self._tri_up if every else self._tri_up[idx],
        )

    def _remove_legend(self) -> None:
        if self.legend is not None:
            self.renderer.RemoveViewProp(self.legend)
            self.legend = None

    def highlight(self, object_indices: np.ndarray | list[int] | None) -> None:
        """Tint the selected objects (and everything below them in the hierarchy).

        Only the per-cell colour array changes; pass ``None`` or ``[]`` to clear.
        """
        objects = self.model.objects
        tri_object = self.arrays.cell["object"]
        idx = np.asarray([] if object_indices is None else object_indices, dtype=np.int64).ravel()
        n = len(objects)
        if n == 0 or len(idx) == 0:
            self._selected_tris = np.zeros(self.arrays.n_triangles, bool)
        else:
            sel = np.zeros(n, bool)
            sel[idx[(idx >= 0) & (idx < n)]] = True
            under = inherit_from_ancestors(sel, objects.parents) >= 0
            self._selected_tris = under[np.clip(tri_object, 0, n - 1)] & (tri_object >= 0)
        self._refresh_colours()

    # ------------------------------------------------------------- edits
    def transform_objects(self, roots: np.ndarray | list[int], matrices: np.ndarray | None) -> None:
        """Draw top-level objects moved, turned or scaled, without rebuilding the layer's mesh.

        Parameters
        ----------
        roots
            Indices of top-level objects (into the object table).
        matrices
            ``(k, 4, 4)`` (or one ``(4, 4)`` for all) float64 transforms in world coordinates,
            applied to each object's *original* geometry; ``None`` puts the objects back.

        Only the objects' own points change (in the shared ``vtkPoints``): the cost grows with
        the size of the objects moved, not of the layer. On screen, up to
        :data:`~citytwin.render.gpu_moves.SLOTS` moved objects are drawn by the vertex shader,
        so moving one building of 100,000 uploads no points at all; past that, the moves are
        written into the drawn points (one upload) and the shader starts afresh. A point shared
        with another object (rare: readers give every polygon its own vertices) is split off first.
        """
        roots = np.atleast_1d(np.asarray(roots, np.int64))
        if len(roots) == 0:
            return
        m = None
        if matrices is not None:
            m = np.asarray(matrices, np.float64)
            if m.shape == (4, 4):
                m = np.broadcast_to(m, (len(roots), 4, 4))
            if m.shape != (len(roots), 4, 4) or not np.isfinite(m).all():
                raise ValueError("Each moved object needs one finite 4 × 4 transform.")
        if self._original_points is None:
            self._original_points = self.arrays.points.copy()
        if self._draw_polydata is None and gpu_moves.SLOTS > 0:
            self._start_gpu_moves()  # before any point moves: the layer's bounds are those as read
        pts_of = [self._object_points(int(r)) for r in roots]
        orig = self._original_points
        points = self.arrays.points
        if m is None:
            for r, idx in zip(roots, pts_of, strict=True):
                points[idx] = orig[idx]
                self._moved_local.pop(int(r), None)
        else:
            o = self.origin
            for r, idx, mat in zip(roots, pts_of, m, strict=True):
                world = orig[idx].astype(np.float64) + o
                moved = world @ mat[:3, :3].T + mat[:3, 3]
                points[idx] = (moved - o).astype(points.dtype)
                self._moved_local[int(r)] = gpu_moves.local_matrix(mat, o)
        self._vtk_points.Modified()  # the layer's points as drawn: picking, outlines, texture images follow
        self.polydata.Modified()
        boxes = [(points[idx].min(axis=0), points[idx].max(axis=0)) for idx in pts_of if len(idx)]
        self._draw_moves([int(r) for r in roots], boxes)
        self._bounds = None
        self._pick_pieces = None
        self._texture_locators = {}
        self._tri_up = None
        self._drawn_version += 1  # the interaction proxy is stale

    def _draw_moves(self, roots: list[int], boxes: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Have the main mesh draw the moves of ``roots`` (now within ``boxes``, ``(low, high)`` each):
        by the shader, or written into its base points.

        An object moved beyond the base points' bounds is written into them too: VTK fits the
        camera's near and far planes to the bounds of the points it draws.
        """
        if self._draw_polydata is None:  # no shader moves (SLOTS is 0): the mapper draws the moved points
            return
        eye = np.eye(4)
        for r in roots:
            now = self._moved_local.get(r, eye)
            baked = self._baked_local.get(r)
            delta = now if baked is None else now @ np.linalg.inv(baked)
            if np.allclose(delta, eye, rtol=0.0, atol=1e-9):
                self._shader_moves.pop(r, None)
            else:
                self._shader_moves[r] = delta
        moves = []
        for r, mat in sorted(self._shader_moves.items()):
            if r not in self._runs_of_root:
                self._runs_of_root[r] = gpu_moves.runs(self._points_of_root[r])
            moves.extend((a, b, mat) for a, b in self._runs_of_root[r])
        lo, hi = self._base_box
        outside = any((b_lo < lo).any() or (b_hi > hi).any() for b_lo, b_hi in boxes)
        if len(moves) > gpu_moves.SLOTS or outside:  # write every move into the base: one upload
            self._set_base(self.arrays.points.copy())
            self._baked_local = dict(self._moved_local)
            self._shader_moves = {}
            moves = []
        gpu_moves.set_moves(self.actor, moves)

    def _start_gpu_moves(self) -> None:
        """Draw the main mesh from base points, moved by the shader (at the first move)."""
        assert self._original_points is not None
        self._base_vtk_points = vtkPoints()
        self._set_base(self._original_points, self.bounds())  # nothing has moved yet: the layer's own
        self._draw_polydata = pv.PolyData()
        self._sync_draw_polydata()
        self.mapper.SetInputData(self._draw_polydata)
        gpu_moves.install(self.actor)

    def _set_base(self, points: np.ndarray, bounds: np.ndarray | None = None) -> None:
        """Draw ``points`` (``bounds``: theirs, when known) as the base the shader moves objects from."""
        self._base_points = points
        self._base_vtk_points.SetData(pv.convert_array(points))
        b = _point_bounds(points) if bounds is None else bounds
        self._base_box = (b[:3], b[3:])

    def _sync_draw_polydata(self) -> None:
        """The drawn polydata: :attr:`polydata`'s cells, cell and point data, on the base points."""
        pd = self._draw_polydata
        assert pd is not None
        pd.ShallowCopy(self.polydata)
        pd.SetPoints(self._base_vtk_points)
        pd.GetCellData().SetActiveScalars("colors")
        pd.Modified()

    def moved_object_bounds(self, root: int) -> np.ndarray | None:
        """World bounds of a top-level object as drawn, when :meth:`transform_objects` moved it; else ``None``."""
        if self._original_points is None:
            return None
        idx = self._points_of_root.get(int(root))
        if idx is None or len(idx) == 0 or np.array_equal(self.arrays.points[idx], self._original_points[idx]):
            return None
        pts = self.arrays.points[idx].astype(np.float64) + self.origin
        return np.concatenate([pts.min(axis=0), pts.max(axis=0)])

    def original_object_points(self, root: int) -> np.ndarray:
        """``(n, 3)`` float64 world coordinates of a top-level object's points as read (before any move)."""
        idx = self._object_points(int(root))
        base = self._original_points if self._original_points is not None else self.arrays.points
        return base[idx].astype(np.float64) + self.origin

    def set_hidden_ids(self, ids: Any) -> bool:
        """Hide objects by id in the view (with their parts); an empty set shows them all again.

        Returns True when the drawing changed.
        """
        index = self.model.objects.index
        rows = [index[i] for i in ids if i in index]
        if not rows:
            keep = None
        else:
            from citytwin.render.colormap import inherit_from_ancestors

            hidden = np.zeros(len(self.model.objects), bool)
            hidden[rows] = True
            gone = inherit_from_ancestors(hidden, self.model.objects.parents) >= 0
            objs = self.arrays.cell["object"]
            ok = (objs >= 0) & (objs < len(gone))
            keep = np.ones(len(objs), bool)
            keep[ok] = ~gone[objs[ok]]
        if (keep is None and self._hide_keep is None) or (
            keep is not None and self._hide_keep is not None and np.array_equal(keep, self._hide_keep)
        ):
            return False
        self._hide_keep = keep
        self._rebuild_cells()
        return True

    def set_edit_hidden(self, hidden: np.ndarray | None) -> bool:
        """Leave out the objects a scenario deletes (``(N,)`` bool over the object table, parts included
        with their parent); ``None`` shows them again. Returns True when the drawing changed."""
        if hidden is None:
            if self._edit_keep is None:
                return False
            self._edit_keep = None
        else:
            from citytwin.render.colormap import inherit_from_ancestors

            gone = inherit_from_ancestors(np.asarray(hidden, bool), self.model.objects.parents) >= 0
            objs = self.arrays.cell["object"]
            ok = (objs >= 0) & (objs < len(gone))
            keep = np.ones(len(objs), bool)
            keep[ok] = ~gone[objs[ok]]
            if self._edit_keep is not None and np.array_equal(keep, self._edit_keep):
                return False
            self._edit_keep = keep
        self._rebuild_cells()
        return True

    def _object_points(self, root: int) -> np.ndarray:
        """Indices of the points of a top-level object's triangles, split from other objects if shared."""
        cached = self._points_of_root.get(root)
        if cached is not None:
            return cached
        tri_root = self.arrays.cell["root"]
        mine = np.flatnonzero(tri_root == root)
        idx = np.unique(self.arrays.triangles[mine])
        if self._point_root is None:
            self._point_root = _point_owner(self.arrays.triangles, tri_root, len(self.arrays.points))
        if (self._point_root[idx] == -2).any():  # shared with another object: give this one its own copies
            idx = self._split_points(mine, idx, root)
        self._points_of_root[root] = idx
        return idx

    def _split_points(self, tris: np.ndarray, idx: np.ndarray, root: int) -> np.ndarray:
        shared = idx[self._point_root[idx] == -2]
        n = len(self.arrays.points)
        new_index = np.full(n, -1, np.int64)
        new_index[shared] = n + np.arange(len(shared))
        self.arrays.points = np.concatenate([self.arrays.points, self.arrays.points[shared]])
        base_is_original = self._base_points is self._original_points
        self._original_points = np.concatenate([self._original_points, self._original_points[shared]])
        t = self.arrays.triangles[tris]
        remap = new_index[t]
        self.arrays.triangles[tris] = np.where(remap >= 0, remap, t).astype(self.arrays.triangles.dtype)
        self._point_root = np.concatenate([self._point_root, np.full(len(shared), root, np.int64)])
        self._vtk_points.SetData(pv.convert_array(self.arrays.points))
        if self._draw_polydata is not None:  # the drawn points and their objects grow alike
            assert self._base_points is not None
            self._set_base(
                self._original_points
                if base_is_original
                else np.concatenate([self._base_points, self._base_points[shared]])
            )
        self._runs_of_root.pop(root, None)
        self._rebuild_cells()
        return np.unique(self.arrays.triangles[tris])

    # ------------------------------------------------------------- queries
    def bounds(self) -> np.ndarray:
        """Bounds of every point of the layer (all LoDs), computed once until objects move."""
        if self._bounds is None:
            self._bounds = _point_bounds(self.arrays.points)
        return self._bounds.copy()

    def fit_points(self, max_points: int = 100_000) -> np.ndarray:
        """Vertices of the drawn triangles (every ``k``-th triangle above ``max_points / 3`` triangles).

        What the camera fit frames: an oblique view of the actual buildings, not of their bounding box.
        """
        self._ensure_synced()
        drawn = self._drawn
        if len(drawn) == 0:
            return np.zeros((0, 3))
        step = max(1, -(-3 * len(drawn) // max(int(max_points), 3)))
        return self.arrays.points[self.arrays.triangles[drawn[::step]].ravel()]

    def object_of_cell(self, cell_id: int) -> int:
        """Object index of a cell of :attr:`polydata` (as a VTK picker reports it)."""
        self._ensure_synced()
        return int(self.arrays.cell["object"][self._main_idx[cell_id]])

    def pick(self, x: float, y: float) -> PickResult | None:
        """What this layer shows at a display position (VTK convention: origin bottom-left).

        Only drawn triangles can be picked (hidden classes and other LoDs cannot).
        """
        if not self.visible or len(self._drawn) == 0:
            return None
        self._ensure_synced()
        p0, p1 = display_ray(self.renderer, x, y)
        tol = 1e-7 * float(np.linalg.norm(p1 - p0))  # a hair above 0: rays through a shared edge still hit
        hit = self._main_pick_pieces().pick(p0, p1, tol) if len(self._main_idx) else None
        if self._texture_mode_on():  # textured triangles are drawn (and picked) apart
            assert self._texture_actors is not None
            for t, (_actor, pd, idx) in self._texture_actors.parts.items():
                if len(idx) == 0:
                    continue
                if t not in self._texture_locators:
                    self._texture_locators[t] = self._new_locator(pd)
                at, cell, xyz = intersect(self._texture_locators[t], p0, p1, tol)
                if cell >= 0 and (hit is None or at < hit.t):
                    tri = int(pd.GetCellData().GetArray("tri_index").GetValue(cell))
                    hit = RayHit(at, tri, xyz)
        if hit is None:
            return None
        tri = hit.triangle
        return PickResult(
            object=int(self.arrays.cell["object"][tri]),
            root=int(self.arrays.cell["root"][tri]),
            triangle=tri,
            position=hit.position,
        )

    def remove(self) -> None:
        self._join_proxy_job()
        self._remove_legend()
        if self._lod_proxy is not None:
            self._lod_proxy.stop()
        if getattr(self, "_render_observer", None) is not None:
            self.renderer.RemoveObserver(self._render_observer)
            self._render_observer = None
        super().remove()
        self._texture_actors = None
        self._lod_proxy = None


# ------------------------------------------------------------------ legends
#: pixels kept free between a legend and the right edge of the view
LEGEND_EDGE_PX = 10


def _point_bounds(points: np.ndarray) -> np.ndarray:
    """``[xmin, ymin, zmin, xmax, ymax, zmax]`` of ``(V, 3)`` points (NaN when there are none)."""
    if len(points) == 0:
        return np.full(6, np.nan)
    cols = [np.ascontiguousarray(points[:, k]) for k in range(3)]  # a strided reduction is ~10x slower
    return np.array([c.min() for c in cols] + [c.max() for c in cols], np.float64)


def _point_owner(triangles: np.ndarray, tri_root: np.ndarray, n_points: int) -> np.ndarray:
    """``(V,)`` the top-level object each point belongs to: -1 unused, -2 used by several objects."""
    tris = np.asarray(triangles)
    roots = np.asarray(tri_root, np.int32)  # half the memory of int64 (fresh pages are slow to touch)
    owner = np.full(n_points, -1, np.int32)
    for c in range(tris.shape[1]):  # one column at a time: no (3T,) copies of a 100,000-building layer
        owner[tris[:, c]] = roots  # one of the objects using the point
    for c in range(tris.shape[1]):
        col = tris[:, c]
        owner[col[owner[col] != roots]] = -2  # another object uses it too
    return owner


def _text_width(prop: Any, text: str) -> int:
    """Width in pixels of ``text`` drawn with a ``vtkTextProperty`` (0 when it cannot be measured)."""
    from vtkmodules.vtkRenderingCore import vtkTextRenderer

    renderer = vtkTextRenderer.GetInstance()
    bbox = [0, 0, 0, 0]
    if renderer is None or not text or not renderer.GetBoundingBox(prop, text, bbox, 72):
        return 0
    return int(bbox[1] - bbox[0] + 1)


def fit_legend(legend: Any, size: tuple[int, int]) -> None:
    """Keep a scalar bar and its title inside a view of ``size`` pixels.

    VTK centres a scalar bar's title over the bar (whatever the text's justification), so a
    long attribute name ran out of the view ("measuredHeigh"). The bar moves left just as far
    as its title needs.
    """
    if not isinstance(legend, vtkScalarBarActor):
        return
    w = int(size[0])
    if w <= 0:
        return
    key = (legend.GetTitle(), legend.GetTitleTextProperty().GetFontSize())
    cached = getattr(legend, "_citytwin_title", None)
    if cached is None or cached[0] != key:
        cached = (key, _text_width(legend.GetTitleTextProperty(), legend.GetTitle() or ""))
        legend._citytwin_title = cached  # type: ignore[attr-defined]
    title_px = cached[1]
    width = legend.GetWidth()
    # the title is centred on the frame (x .. x + width): its right end must stay LEGEND_EDGE_PX inside
    x = min(LEGEND_X, (w - LEGEND_EDGE_PX - title_px / 2) / w - width / 2)
    x = max(x, 0.0)
    coord = legend.GetPositionCoordinate()
    if abs(coord.GetValue()[0] - x) > 1e-6:
        coord.SetValue(x, coord.GetValue()[1])


#: where a scalar bar stands (normalized viewport x) when its title is short enough
LEGEND_X = 0.90


def _f(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    return (rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0)


def _swatch(rgb: tuple[int, int, int]) -> pv.PolyData:
    """A unit square carrying its own colour (so the legend text can stay dark)."""
    quad = pv.PolyData(
        np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], np.float32), faces=np.array([4, 0, 1, 2, 3])
    )
    quad.cell_data.set_array(np.array([rgb], np.uint8), "colors")
    quad.GetCellData().SetActiveScalars("colors")
    return quad


def legend_actor(thematic: Thematic, style: Style = DEFAULT_STYLE, font_size: int = 16) -> Any:
    """A legend for a thematic colouring: a scalar bar (numeric) or a category box.

    Objects without a value are listed as "no value (n)" in the neutral colour.
    ``font_size`` is in pixels (about ``image height / 60`` reads well).
    """
    text = _f(style.text_colour)
    if thematic.kind == "numeric":
        lut = vtkLookupTable()
        colours = thematic.lut(256)
        lut.SetNumberOfTableValues(len(colours))
        for i, c in enumerate(colours):  # 256 entries, once per legend
            lut.SetTableValue(i, *_f(tuple(int(v) for v in c)), 1.0)  # type: ignore[arg-type]
        lo, hi = thematic.clim or (0.0, 1.0)
        lut.SetTableRange(lo, hi if hi > lo else lo + 1.0)
        lut.SetNanColor(*_f(thematic.neutral), 1.0)
        bar = vtkScalarBarActor()
        bar.SetLookupTable(lut)
        bar.SetTitle(thematic.attribute)
        bar.SetNumberOfLabels(5)
        bar.SetLabelFormat("%-#6.4g")
        bar.SetOrientationToVertical()
        bar.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
        bar.GetPositionCoordinate().SetValue(LEGEND_X, 0.12)
        bar.SetWidth(0.07)
        bar.SetHeight(0.76)
        bar.UnconstrainedFontSizeOn()
        bar.GetTitleTextProperty().SetFontSize(int(font_size * 1.15))
        bar.GetLabelTextProperty().SetFontSize(font_size)
        bar.GetAnnotationTextProperty().SetFontSize(font_size)
        if thematic.n_missing:
            bar.DrawNanAnnotationOn()
            bar.SetNanAnnotation(f"no value ({thematic.n_missing})")
        for prop in (bar.GetTitleTextProperty(), bar.GetLabelTextProperty(), bar.GetAnnotationTextProperty()):
            prop.SetColor(*text)
            prop.ShadowOff()
            prop.ItalicOff()
            prop.BoldOff()
        return bar
    entries = list(zip(thematic.categories, thematic.category_colours, thematic.category_counts, strict=True))
    if thematic.n_missing:
        entries.append(("no value", thematic.neutral, thematic.n_missing))
    box = vtkLegendBoxActor()
    box.SetNumberOfEntries(max(len(entries), 1))
    for i, (label, rgb, count) in enumerate(entries):
        box.SetEntry(i, _swatch(rgb), f"{label} ({count})", text)
    box.ScalarVisibilityOn()
    box.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
    box.GetPositionCoordinate().SetValue(0.80, 0.55)
    box.GetPosition2Coordinate().SetCoordinateSystemToNormalizedViewport()
    box.GetPosition2Coordinate().SetValue(0.18, min(0.04 * max(len(entries), 1) + 0.02, 0.43))
    box.UseBackgroundOn()
    box.SetBackgroundColor(1.0, 1.0, 1.0)
    box.SetBackgroundOpacity(0.75)
    box.GetEntryTextProperty().SetColor(*text)
    box.GetEntryTextProperty().ShadowOff()
    box.SetPadding(4)
    return box


# ------------------------------------------------------------------ registry
_VISUALS: dict[type, type[BaseVisual]] = {}


def register_visual(model_type: type, visual_type: type[BaseVisual]) -> None:
    """Use ``visual_type`` for models of ``model_type`` (and its subclasses)."""
    _VISUALS[model_type] = visual_type


def visual_class_for(model: Any) -> type[BaseVisual]:
    """The visual class of a model, found by walking its class's MRO.

    Raises
    ------
    TypeError
        If no visual is registered for the model's type or a base of it.
    """
    for cls in type(model).__mro__:
        if cls in _VISUALS:
            return _VISUALS[cls]
    raise TypeError(f"no visual for {type(model).__name__}")


def create_visual(model: Any, renderer: Any, origin: np.ndarray, style: Style = DEFAULT_STYLE) -> BaseVisual:
    """Build the registered visual of a model and add it to a renderer."""
    return visual_class_for(model)(model, renderer, origin, style)


register_visual(CityModel, CityModelVisual)

# point clouds: the module registers its visual when imported (it needs this module's BaseVisual)
from citytwin.render import pointcloud_visual as _pointcloud_visual  # noqa: E402, F401
