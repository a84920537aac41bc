"""Visuals: the VTK actors of one layer, driven by plain method calls (no Qt).

A visual owns one merged mesh and one actor per layer (never one actor per
building). Everything a user toggles works without re-converting the model:

* hiding a surface class or switching LoD re-selects the drawn triangles from
  arrays kept in memory: one boolean mask, one fancy index and one new
  ``vtkCellArray`` sharing the same ``vtkPoints`` (hidden cells cannot be
  skipped with VTK's ghost-cell flags: the OpenGL mapper still draws them);
* colour modes and selection overwrite the per-cell ``colors`` array in place.

Visual classes are found from the model's class through :func:`visual_class_for`
(walking the MRO, like napari's ``_vispy/utils/visual.py``), so point clouds and
meshes plug in with :func:`register_visual`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyvista as pv
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkLookupTable, vtkPoints
from vtkmodules.vtkCommonDataModel import vtkStaticCellLocator
from vtkmodules.vtkRenderingAnnotation import vtkLegendBoxActor, vtkScalarBarActor
from vtkmodules.vtkRenderingCore import vtkActor, vtkCellPicker, vtkPolyDataMapper

from citytwin.model.citymodel import CityModel
from citytwin.model.semantics import SurfaceClass
from citytwin.render.colormap import Thematic, inherit_from_ancestors, thematic_colours
from citytwin.render.convert import choose_origin, lod_mask, polydata_from_arrays, render_arrays
from citytwin.render.style import DEFAULT_STYLE, Style, apply_surface_lighting

ColourMode = Literal["semantic", "single", "attribute"]


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
    """

    def __init__(
        self,
        model: CityModel,
        renderer: Any,
        origin: np.ndarray | None = None,
        style: Style = DEFAULT_STYLE,
        lod: int | None = None,
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
        self._mode: ColourMode = "semantic"
        self._mode_colours = cell["colors"]
        self._selected_tris = np.zeros(self.arrays.n_triangles, bool)
        self.thematic: Thematic | None = None
        self.legend: Any | None = None
        self._drawn = np.zeros(0, np.int64)
        self._locator: vtkStaticCellLocator | None = None

        self.polydata = pv.PolyData()
        self.mapper = vtkPolyDataMapper()
        self.mapper.SetInputData(self.polydata)
        self.mapper.ScalarVisibilityOn()
        self.mapper.SetScalarModeToUseCellFieldData()
        self.mapper.SelectColorArray("colors")
        self.mapper.SetColorModeToDirectScalars()
        self.actor = vtkActor()
        self.actor.SetMapper(self.mapper)
        apply_surface_lighting(self.actor.GetProperty(), style)
        self.actors = [self.actor]
        self._rebuild_cells()
        self.renderer.AddActor(self.actor)

    # ------------------------------------------------------------ cells drawn
    @property
    def drawn_triangles(self) -> np.ndarray:
        """Indices (into ``mesh.triangles``) of the triangles currently drawn."""
        return self._drawn

    def _rebuild_cells(self) -> None:
        cell = self.arrays.cell
        keep = self._lod_keep & ~self._hidden_classes[cell["semantic"]]
        idx = np.flatnonzero(keep)
        self._drawn = idx
        sub = {k: v[idx] for k, v in cell.items() if k != "colors"}
        sub["tri_index"] = idx.astype(np.int32)
        sub["colors"] = self._display_colours(idx)
        pd = polydata_from_arrays(None, self.arrays.triangles[idx], sub, vtk_points=self._vtk_points)
        self.polydata.ShallowCopy(pd)
        self.polydata.GetCellData().SetActiveScalars("colors")
        self.polydata.Modified()
        self._locator = None

    def _display_colours(self, idx: np.ndarray) -> np.ndarray:
        colours = self._mode_colours[idx].copy()
        sel = self._selected_tris[idx]
        if sel.any():
            m = float(self.style.selection_mix)
            tint = np.array([*self.style.selection, 255], np.float32)
            colours[sel] = np.round(colours[sel].astype(np.float32) * (1 - m) + tint * m).astype(np.uint8)
        return colours

    def _refresh_colours(self) -> None:
        arr = self.polydata.GetCellData().GetArray("colors")
        view = vtk_to_numpy(arr)
        view[:] = self._display_colours(self._drawn)
        arr.Modified()

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
    ) -> Thematic | None:
        """Colour by semantic class, with one colour, or by an attribute.

        Parameters
        ----------
        mode
            ``"semantic"`` (the default look), ``"single"`` or ``"attribute"``.
        colour
            RGB for ``"single"`` (default :attr:`Style.single_colour`).
        attribute, cmap, clim, kind
            For ``"attribute"``: see :func:`~citytwin.render.colormap.thematic_colours`.
        legend
            Add a legend (scalar bar or category box) to the renderer in ``"attribute"`` mode.

        Returns
        -------
        Thematic or None
            The thematic colouring (legend data, count without value) in ``"attribute"`` mode.
        """
        self._remove_legend()
        self.thematic = None
        cell = self.arrays.cell
        if mode == "semantic":
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
        else:
            raise ValueError(f"unknown colour mode {mode!r}")
        self._mode = mode
        self._refresh_colours()
        return self.thematic

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

    # ------------------------------------------------------------- queries
    def bounds(self) -> np.ndarray:
        pts = self.arrays.points
        if len(pts) == 0:
            return np.full(6, np.nan)
        return np.concatenate([pts.min(axis=0), pts.max(axis=0)]).astype(np.float64)

    def object_of_cell(self, cell_id: int) -> int:
        """Object index of a cell of :attr:`polydata` (as a VTK picker reports it)."""
        return int(self.arrays.cell["object"][self._drawn[cell_id]])

    def pick(self, x: float, y: float) -> PickResult | None:
        """What this layer shows at a display position (VTK convention: origin bottom-left).

        Only drawn triangles can be picked (hidden classes and other LoDs cannot).
        """
        if not self.visible or len(self._drawn) == 0:
            return None
        if self._locator is None:
            self._locator = vtkStaticCellLocator()
            self._locator.SetDataSet(self.polydata)
            self._locator.BuildLocator()
        picker = vtkCellPicker()
        picker.SetTolerance(1e-5)  # a hair above 0: rays through a shared edge still hit
        picker.PickFromListOn()
        picker.AddPickList(self.actor)
        picker.AddLocator(self._locator)
        if not picker.Pick(float(x), float(y), 0.0, self.renderer):
            return None
        cid = picker.GetCellId()
        if cid < 0:
            return None
        tri = int(self._drawn[cid])
        return PickResult(
            object=int(self.arrays.cell["object"][tri]),
            root=int(self.arrays.cell["root"][tri]),
            triangle=tri,
            position=np.array(picker.GetPickPosition(), float),
        )

    def remove(self) -> None:
        self._remove_legend()
        super().remove()


# ------------------------------------------------------------------ legends
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
        bar.GetPositionCoordinate().SetValue(0.90, 0.12)
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
