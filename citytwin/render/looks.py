"""Apply a :class:`~citytwin.model.looks.Look` to a renderer with VTK's render passes.

:func:`apply_look` sets the sky, the lights (the sun as a directional key light and a fill
head light), the materials of the city-model visuals (per-building lightness variation,
monochrome, PBR on textured surfaces, silhouette edges) and a ground plane under data
without terrain. The image effects depend on the quality:

* ``"draft"``: no ambient occlusion, no shadows, no edges: today's frame time, what the
  window draws while the camera moves;
* ``"final"``: everything the look asks for: VTK's ``vtkSSAOPass`` and
  ``vtkShadowMapPass``/``vtkShadowMapBakerPass`` (through pyvista's render-pass chain, the
  same ``vtkCameraPass`` → ``vtkSequencePass`` chain its ``enable_ssao``/``enable_shadows``
  build, so eye-dome lighting of point clouds keeps working), silhouette edges
  (``vtkPolyDataSilhouette``).

The state a renderer needs between calls (passes, ground plane, edge actors, the
visuals' original colours) is one :class:`LookRig` per renderer: switching quality only
switches passes and edge visibility; colours are recomputed only when the materials change.
"""

from __future__ import annotations

import weakref
from typing import Any, Literal

import numpy as np
from vtkmodules.vtkRenderingCore import vtkLight

from citytwin.model.looks import DEFAULT_SUN, Look, colour_jitter
from citytwin.model.semantics import SurfaceClass
from citytwin.render.visuals import CityModelVisual, renderer_of

Quality = Literal["draft", "final"]
#: The qualities: cheap while moving, everything at rest and in exports.
QUALITIES: tuple[Quality, ...] = ("draft", "final")
#: Object types that are terrain: a layer with one of these needs no ground plane.
TERRAIN_TYPES = frozenset({"TINRelief", "ReliefFeature", "MassPointRelief", "RasterRelief", "BreaklineRelief"})

#: the fog: after the lighting, mix towards the fog colour with the distance from the camera (VTK declares
#: the uniforms itself, from the shader property's custom uniforms)
_FOG_GLSL = (
    "//VTK::Light::Impl\n"
    "  if (citytwinFogOn > 0.5) {\n"
    "    float citytwinFog = clamp((length(vertexVC.xyz) - citytwinFogStart)"
    " / max(citytwinFogEnd - citytwinFogStart, 1e-3), 0.0, 1.0);\n"
    "    gl_FragData[0].rgb = mix(gl_FragData[0].rgb, citytwinFogColour, citytwinFog);\n"
    "  }\n"
)

_RIGS: weakref.WeakKeyDictionary[Any, LookRig] = weakref.WeakKeyDictionary()


def _texture_shading(actor: Any, pbr: bool) -> None:
    """Shade a textured actor physically based (its image as the base colour, in sRGB) or flat.

    VTK's PBR shader reads the base colour from the property's ``albedoTex`` and ignores the
    actor's own texture: without this the image would be drawn as plain grey.
    """
    prop = actor.GetProperty()
    texture = actor.GetTexture()
    if pbr and texture is not None:
        texture.UseSRGBColorSpaceOn()
        prop.SetInterpolationToPBR()
        prop.SetBaseColorTexture(texture)
        prop.SetMetallic(0.0)
        prop.SetRoughness(0.85)
    else:
        if prop.GetTexture("albedoTex") is not None:
            prop.RemoveTexture("albedoTex")
        if texture is not None:
            texture.UseSRGBColorSpaceOff()
        prop.SetInterpolationToFlat()


def sun_light_direction(sun: tuple[float, float] | None) -> np.ndarray:
    """Unit vector from the scene towards the sun (+X east, +Y north, +Z up); ``None``: :data:`DEFAULT_SUN`."""
    from citytwin.model.sun import sun_direction

    az, el = sun if sun is not None else DEFAULT_SUN
    return np.asarray(sun_direction(float(az), float(el)), float)


def active_passes(target: Any) -> list[str]:
    """Class names of the render passes a renderer draws with, walking delegates and sequences
    (``[]``: VTK's default rendering)."""
    ren = renderer_of(target)
    names: list[str] = []
    todo = [ren.GetPass()]
    seen: set[int] = set()
    while todo:
        p = todo.pop()
        if p is None or id(p) in seen:
            continue
        seen.add(id(p))
        names.append(p.GetClassName())
        for getter in ("GetDelegatePass", "GetOpaqueSequence"):
            if hasattr(p, getter):
                todo.append(getattr(p, getter)())
        if hasattr(p, "GetPasses") and p.GetPasses() is not None:
            col = p.GetPasses()
            col.InitTraversal()
            for _ in range(col.GetNumberOfItems()):
                todo.append(col.GetNextRenderPass())
    return names


class LookRig:
    """What a look added to one renderer, so that the next look or quality replaces it.

    Parameters
    ----------
    target
        A pyvista plotter or renderer.
    """

    def __init__(self, target: Any) -> None:
        self._renderer = weakref.ref(renderer_of(target))  # the rig lives as long as its renderer
        self.look: Look | None = None
        self.quality: Quality = "draft"
        self.sun: tuple[float, float] | None = None
        self.ground: Any = None
        self._key: vtkLight | None = None
        self._fill: vtkLight | None = None
        self._ssao_key: tuple | None = None
        self._shadow_key: int | None = None
        self._camera_observer: int | None = None
        self._start_observer: int | None = None
        self._view_camera: Any = None  # the view's camera, noted as each frame starts
        #: id(visual) → (visual, original RGBA cell colours, materials applied)
        self._colours: dict[int, tuple[Any, np.ndarray, tuple]] = {}
        #: id(actor) → actor, for the actors given the fog's shader addition
        self._fogged: dict[int, Any] = {}
        self._fog_observer: int | None = None
        self._fog_size = 1000.0
        #: id(visual) → (visual, silhouette filter, actor)
        self._edges: dict[int, tuple[Any, Any, Any]] = {}

    @property
    def renderer(self) -> Any:
        return self._renderer()

    # ------------------------------------------------------------------ the whole look
    def apply(
        self,
        look: Look,
        quality: Quality = "draft",
        sun: tuple[float, float] | None = None,
        visuals: Any = (),
    ) -> None:
        """Show ``look`` in ``quality`` with the sun at ``(azimuth, elevation)`` degrees (``None``: a default)."""
        if quality not in QUALITIES:
            raise ValueError(f"the quality must be 'draft' or 'final', not {quality!r}")
        visuals = [v for v in visuals if v is not None]
        self.look, self.quality, self.sun = look, quality, sun
        self._sky(look)
        self._lights(look, sun, visuals)
        self._materials(look, visuals)
        self._ground(look, visuals)
        self._fog(look, visuals)
        self.set_quality(quality, visuals)

    def set_sun(self, sun: tuple[float, float] | None, visuals: Any = ()) -> None:
        """Move the sun to ``(azimuth, elevation)`` degrees (``None``: a default) and keep the look (cheap).

        Only the lights and whether shadows are cast change: a sun study's frames, each with its sun.
        """
        if self.look is None or sun == self.sun:
            return
        visuals = [v for v in visuals if v is not None]
        self.sun = sun
        self._lights(self.look, sun, visuals)
        self.set_quality(self.quality, visuals)

    def set_quality(self, quality: Quality, visuals: Any = ()) -> None:
        """Switch between draft and final (passes and edges only: cheap)."""
        if self.look is None:
            return
        look, final = self.look, quality == "final"
        self.quality = quality
        visuals = [v for v in visuals if v is not None]
        # VTK's SSAO and shadow-map passes rewrite every actor's shaders and break point sprites (a point
        # cloud drew nothing): a scene with point clouds keeps their exact colours and goes without them
        passes = final and not any(hasattr(v, "shown_points") for v in visuals)
        self._ssao(look if passes and look.ssao.on else None)
        elevation = (self.sun or DEFAULT_SUN)[1]
        # VTK 9.7 cannot chain the two: under SSAO the shadow-map pass's code reads vertexVC, which the SSAO
        # pass's shaders no longer declare, and the city draws nothing; a look with both keeps the SSAO
        sun_shadows = passes and look.shadows.on and elevation > 0 and not (look.ssao.on and final)
        self._shadows(look.shadows.resolution if sun_shadows else None)
        self._antialiasing(look, final)
        self._edges_shown(look, final, visuals)

    def remove(self) -> None:
        """Take out everything the look added (passes, fog, ground, edges; colours back as they were)."""
        self._ssao(None)
        self._shadows(None)
        for actor in self._fogged.values():
            actor.GetShaderProperty().GetFragmentCustomUniforms().SetUniformf("citytwinFogOn", 0.0)
        if self._fog_observer is not None:
            self.renderer.RemoveObserver(self._fog_observer)
            self._fog_observer = None
        if self.ground is not None:
            self.renderer.RemoveActor(self.ground)
            self.ground = None
        for _vis, _, actor in self._edges.values():
            self.renderer.RemoveActor(actor)
        self._edges.clear()
        for vis, original, _ in self._colours.values():
            _write_colours(vis, original)
            vis.set_colour_override(None)
        self._colours.clear()

    # ------------------------------------------------------------------ parts
    def _sky(self, look: Look) -> None:
        ren = self.renderer
        ren.SetBackground(*look.sky.bottom)
        ren.SetBackground2(*look.sky.top)
        ren.GradientBackgroundOn()
        ren.TexturedBackgroundOff()
        if look.sky.image:
            try:
                import pyvista as pv

                ren.SetBackgroundTexture(pv.read_texture(look.sky.image))
                ren.TexturedBackgroundOn()
            except Exception:  # a missing or unreadable image: the gradient stays
                ren.TexturedBackgroundOff()

    def _lights(self, look: Look, sun: tuple[float, float] | None, visuals: list) -> None:
        ren = self.renderer
        ren.RemoveAllLights()
        lights = look.lights
        direction = sun_light_direction(sun)
        elevation = (sun or DEFAULT_SUN)[1]
        dusk = float(np.clip(elevation / 5.0, 0.0, 1.0))  # the key fades out as the sun sets
        centre, size = _scene_centre_size(visuals)
        key = vtkLight()
        key.SetLightTypeToSceneLight()
        key.SetPositional(False)
        key.SetFocalPoint(*centre)
        key.SetPosition(*(centre + direction * size * 2.0))
        key.SetColor(*lights.key_colour)
        key.SetIntensity(lights.key_intensity * dusk)
        key.SetSwitch(dusk > 0)
        fill = vtkLight()
        fill.SetLightTypeToHeadlight()
        fill.SetIntensity(lights.fill_intensity)
        ren.AddLight(key)
        ren.AddLight(fill)
        ren.SetTwoSidedLighting(True)
        self._key, self._fill = key, fill
        for vis in visuals:
            if isinstance(vis, CityModelVisual):
                for actor in [vis.actor, *vis.texture_actors]:
                    prop = actor.GetProperty()
                    if prop.GetLighting():
                        prop.SetAmbient(lights.ambient)
                        prop.SetDiffuse(1.0 - 0.5 * lights.ambient)

    def _materials(self, look: Look, visuals: list) -> None:
        m = look.materials
        wanted = (m.monochrome, round(m.colour_variation, 4))
        alive = {id(v) for v in visuals}
        for key in [k for k in self._colours if k not in alive]:
            self._colours.pop(key)
        for vis in visuals:
            if not isinstance(vis, CityModelVisual):
                continue
            entry = self._colours.get(id(vis))
            if entry is None:
                entry = (vis, vis.arrays.cell["colors"].copy(), (None, 0.0))
            if entry[2] != wanted:
                colours = look_colours(vis, entry[1], look)
                _write_colours(vis, colours)
                # a white model is white whatever the layer's colour mode (materials, textures, attribute)
                vis.set_colour_override(colours if m.monochrome is not None else None)
                entry = (vis, entry[1], wanted)
            self._colours[id(vis)] = entry
            for actor in vis.texture_actors:
                _texture_shading(actor, m.pbr)

    def _ground(self, look: Look, visuals: list) -> None:
        if self.ground is not None:
            self.renderer.RemoveActor(self.ground)
            self.ground = None
        if not look.ground_plane.on or not visuals or _has_terrain(visuals):
            return
        bounds = _union_bounds(visuals)
        if bounds is None:
            return
        import pyvista as pv

        extent = float(max(bounds[3] - bounds[0], bounds[4] - bounds[1], 1.0))
        centre = ((bounds[0] + bounds[3]) / 2, (bounds[1] + bounds[4]) / 2, bounds[2] - max(0.02, 1e-4 * extent))
        plane = pv.Plane(center=centre, direction=(0, 0, 1), i_size=extent * 4, j_size=extent * 4)
        actor = pv.Actor(mapper=pv.DataSetMapper(plane))
        prop = actor.GetProperty()
        prop.SetColor(*look.ground_plane.colour)
        prop.SetAmbient(look.lights.ambient)
        prop.SetDiffuse(1.0 - 0.5 * look.lights.ambient)
        prop.SetInterpolationToFlat()
        actor.SetPickable(False)
        self.renderer.AddActor(actor)
        self.ground = actor

    def _fog(self, look: Look, visuals: list) -> None:
        """Depth fog on the city surfaces and the ground (VTK has no fog pass: a two-line shader addition,
        after the lighting, mixing towards the fog colour with the distance from the camera).

        The fog starts ``fog.start`` scene sizes beyond the camera's focal point and is full
        ``fog.end`` beyond it, so the horizon fades whatever the zoom; the distances follow the
        camera at the start of every frame.
        """
        _, size = _scene_centre_size(visuals)
        actors = [a for v in visuals if isinstance(v, CityModelVisual) for a in (v.actor, *v.texture_actors)]
        if self.ground is not None:
            actors.append(self.ground)
        alive = {id(a) for a in actors}
        for key in [k for k in self._fogged if k not in alive]:
            self._fogged.pop(key)
        fog = look.fog
        self._fog_size = size
        for actor in actors:
            sp = actor.GetShaderProperty()
            if id(actor) not in self._fogged:
                if not fog.on:
                    continue
                sp.AddFragmentShaderReplacement("//VTK::Light::Impl", True, _FOG_GLSL, False)
                self._fogged[id(actor)] = actor
            u = sp.GetFragmentCustomUniforms()
            u.SetUniformf("citytwinFogOn", 1.0 if fog.on else 0.0)
            u.SetUniform3f("citytwinFogColour", [float(c) for c in fog.colour])
        ren = self.renderer
        if fog.on and self._fog_observer is None:
            self._fog_observer = ren.AddObserver("StartEvent", self._follow_camera_fog)
        self._follow_camera_fog(ren, "")

    def _follow_camera_fog(self, renderer: Any, _event: str) -> None:
        if self.look is None or not self._fogged:
            return
        fog = self.look.fog
        focal = float(renderer.GetActiveCamera().GetDistance())
        start, end = focal + fog.start * self._fog_size, focal + fog.end * self._fog_size
        for actor in self._fogged.values():
            u = actor.GetShaderProperty().GetFragmentCustomUniforms()
            u.SetUniformf("citytwinFogStart", start)
            u.SetUniformf("citytwinFogEnd", end)

    def _ssao(self, look: Look | None) -> None:
        passes = getattr(self.renderer, "_render_passes", None)
        if passes is None:
            return
        key = None if look is None else (look.ssao.radius, look.ssao.bias, look.ssao.kernel_size)
        if key == self._ssao_key:
            return
        if self._ssao_key is not None:
            self.renderer.disable_ssao()
        if look is not None:
            self.renderer.enable_ssao(radius=look.ssao.radius, bias=look.ssao.bias, kernel_size=look.ssao.kernel_size)
        self._ssao_key = key

    def _shadows(self, resolution: int | None) -> None:
        ren = self.renderer
        passes = getattr(ren, "_render_passes", None)
        if passes is None or resolution == self._shadow_key:
            return
        if self._shadow_key is not None:
            passes.disable_shadow_pass()
        for tag in (self._camera_observer, self._start_observer):
            if tag is not None:
                ren.RemoveObserver(tag)
        self._camera_observer = self._start_observer = None
        if resolution is not None:
            shadow = passes.enable_shadow_pass()
            if shadow is not None:
                shadow.GetShadowMapBakerPass().SetResolution(int(resolution))
            # VTK bakes each shadow map with the light's camera at the *window's* aspect ratio but
            # reads it back at an aspect of 1 (the map is square): on any non-square view the shadows
            # land in the wrong places. The baker makes the light's camera the renderer's active one
            # while it bakes; give that camera the map's own aspect ratio then.
            self._start_observer = ren.AddObserver("StartEvent", self._note_view_camera)
            self._camera_observer = ren.AddObserver("ActiveCameraEvent", self._square_light_camera)
        self._shadow_key = resolution

    def _note_view_camera(self, renderer: Any, _event: str) -> None:
        self._view_camera = renderer.GetActiveCamera()

    def _square_light_camera(self, renderer: Any, _event: str) -> None:
        """While VTK bakes a shadow map, project with the square map's aspect ratio (see :meth:`_shadows`)."""
        cam = renderer.GetActiveCamera()
        if cam is not None and cam is not self._view_camera and not cam.GetUseExplicitAspectRatio():
            cam.SetUseExplicitAspectRatio(True)
            cam.SetExplicitAspectRatio(1.0)

    def _antialiasing(self, look: Look, final: bool) -> None:
        ren = self.renderer
        window = ren.GetRenderWindow()
        # multisampling does not combine with render passes: FXAA stands in for it then
        msaa = look.antialiasing == "msaa" and ren.GetPass() is None
        ren.SetUseFXAA(look.antialiasing == "fxaa" or (look.antialiasing == "msaa" and not msaa))
        if window is not None:
            window.SetMultiSamples(8 if msaa else 0)

    def _edges_shown(self, look: Look, final: bool, visuals: list) -> None:
        shown = final and look.materials.edges
        alive = {id(v) for v in visuals}
        for key in [k for k in self._edges if k not in alive]:
            self.renderer.RemoveActor(self._edges.pop(key)[2])
        if shown:
            for vis in visuals:
                if isinstance(vis, CityModelVisual) and id(vis) not in self._edges:
                    self._edges[id(vis)] = (vis, *_silhouette(vis, self.renderer))
        for vis, _, actor in self._edges.values():
            actor.SetVisibility(bool(shown and vis.visible))
            actor.GetProperty().SetColor(*look.materials.edge_colour)


def look_colours(vis: CityModelVisual, original: np.ndarray, look: Look) -> np.ndarray:
    """``(T, 4)`` uint8 cell colours of a visual in a look: monochrome and per-building lightness variation.

    Vectorised: one factor per top-level object (:func:`~citytwin.model.looks.colour_jitter`),
    indexed by each triangle's root object.
    """
    m = look.materials
    out = original.copy()
    if m.monochrome is not None:
        mono = np.round(np.asarray(m.monochrome) * 255).astype(np.uint8)
        sem = vis.arrays.cell["semantic"]
        glass = sem == SurfaceClass.WINDOW
        out[~glass, :3] = mono
        out[glass, :3] = np.round(mono * 0.85).astype(np.uint8)
    objects = vis.model.objects
    if m.colour_variation > 0 and len(objects) and len(out):
        factors = colour_jitter(objects.ids, m.colour_variation)
        roots = np.clip(vis.arrays.cell["root"], 0, len(objects) - 1)
        rgb = out[:, :3].astype(np.float32) * factors[roots][:, None]
        out[:, :3] = np.clip(np.round(rgb), 0, 255).astype(np.uint8)
    return out


def _write_colours(vis: CityModelVisual, colours: np.ndarray) -> None:
    """Put new semantic-mode colours into a visual (in place: its semantic mode draws this very array)."""
    vis.arrays.cell["colors"][:] = colours
    if vis.colour_mode == "semantic":
        vis._refresh_colours()  # noqa: SLF001  (the visual's own redraw of its colour array)


def _silhouette(vis: CityModelVisual, renderer: Any) -> tuple[Any, Any]:
    from vtkmodules.vtkFiltersCore import vtkCleanPolyData
    from vtkmodules.vtkFiltersHybrid import vtkPolyDataSilhouette
    from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

    # the visual's points are per ring (no vertex shared between polygons): merged, polygons connect, and
    # only true borders and creases draw, not every triangle's outline
    clean = vtkCleanPolyData()
    clean.SetInputData(vis.polydata)
    clean.PointMergingOn()
    clean.SetTolerance(0.0)
    sil = vtkPolyDataSilhouette()
    sil.SetInputConnection(clean.GetOutputPort())
    sil.SetCamera(renderer.GetActiveCamera())
    sil.SetEnableFeatureAngle(True)
    sil.SetFeatureAngle(40.0)
    sil.SetBorderEdges(True)
    mapper = vtkPolyDataMapper()
    mapper.SetInputConnection(sil.GetOutputPort())
    mapper.ScalarVisibilityOff()
    mapper.SetResolveCoincidentTopologyToPolygonOffset()
    actor = vtkActor()
    actor.SetMapper(mapper)
    actor.GetProperty().SetLineWidth(1.5)
    actor.GetProperty().LightingOff()
    actor.SetPickable(False)
    renderer.AddActor(actor)
    return sil, actor


def _union_bounds(visuals: list) -> np.ndarray | None:
    boxes = []
    for v in visuals:
        try:
            b = np.asarray(v.bounds(), float)
        except Exception:
            continue
        if b.shape == (6,) and np.isfinite(b).all():
            boxes.append(b)
    if not boxes:
        return None
    arr = np.stack(boxes)
    return np.concatenate([arr[:, :3].min(axis=0), arr[:, 3:].max(axis=0)])


def _scene_centre_size(visuals: list) -> tuple[np.ndarray, float]:
    b = _union_bounds(visuals)
    if b is None:
        return np.zeros(3), 1000.0
    return (b[:3] + b[3:]) / 2, float(max(np.linalg.norm(b[3:] - b[:3]), 1.0))


def _has_terrain(visuals: list) -> bool:
    """Whether a layer draws terrain (or ground points) that a ground plane would only hide or double."""
    for v in visuals:
        if not isinstance(v, CityModelVisual):
            if hasattr(v, "shown_points"):  # a point cloud has its own ground
                return True
            continue
        if (v.arrays.cell["semantic"] == SurfaceClass.TERRAIN).any():
            return True
        if any(t.rsplit(":", 1)[-1] in TERRAIN_TYPES for t in set(v.model.objects.types)):
            return True
    return False


def rig_for(target: Any) -> LookRig:
    """The :class:`LookRig` of a plotter's renderer (made on first use)."""
    ren = renderer_of(target)
    rig = _RIGS.get(ren)
    if rig is None:
        rig = _RIGS[ren] = LookRig(ren)
    return rig


def apply_look(
    target: Any,
    look: Look,
    quality: Quality = "draft",
    sun: tuple[float, float] | None = None,
    visuals: Any = (),
) -> LookRig:
    """Show a look on a pyvista plotter (or renderer).

    Parameters
    ----------
    target
        A pyvista ``Plotter`` / ``QtInteractor`` or its renderer.
    look
        The look.
    quality
        ``"draft"`` (no SSAO, no shadows, no edges: cheap, for a moving camera) or ``"final"``.
    sun
        ``(azimuth, elevation)`` in degrees (azimuth clockwise from north) orienting the key
        light and the shadows; ``None``: :data:`~citytwin.model.looks.DEFAULT_SUN`.
    visuals
        The layer visuals drawn (their colours, edges and the ground plane under them).

    Returns
    -------
    LookRig
        The renderer's rig (:meth:`LookRig.set_quality` switches quality cheaply).
    """
    rig = rig_for(target)
    rig.apply(look, quality, sun, visuals)
    return rig


def scene_sun(scene: Any) -> tuple[float, float] | None:
    """``(azimuth, elevation)`` of the sun at ``scene.sun`` over the scene's place, or ``None``
    (no time set, or no place on Earth: see :func:`citytwin.model.sun.sun_unavailable_reason`)."""
    when = getattr(scene, "sun", None)
    if when is None:
        return None
    from citytwin.model.sun import scene_lonlat, solar_position

    place = scene_lonlat(scene)
    if place is None:
        return None
    return solar_position(when, *place)


#: scene → ((display CRS, bounds), its (lon, lat) or None): the place of a scene, looked up once per extent
_PLACES: weakref.WeakKeyDictionary[Any, tuple[Any, tuple[float, float] | None]] = weakref.WeakKeyDictionary()


def sun_at(scene: Any, when: Any) -> tuple[float, float] | None:
    """``(azimuth, elevation)`` of the sun at ``when`` (a timezone-aware datetime) over the scene's place.

    For a tour frame's own sun (:attr:`~citytwin.model.tours.TourFrame.sun`), many times a second:
    the scene's place is reprojected once and kept while its CRS and bounds stay the same.
    ``None`` when ``when`` is ``None`` or the scene has no place on Earth.
    """
    if when is None or scene is None:
        return None
    from citytwin.model.sun import scene_lonlat, solar_position

    bounds = scene.bounds() if callable(getattr(scene, "bounds", None)) else None
    key = (getattr(scene, "display_crs", None), None if bounds is None else tuple(np.asarray(bounds, float)))
    try:
        cached = _PLACES.get(scene)
    except TypeError:  # not weakly referable: look the place up every time
        cached = None
    if cached is not None and cached[0] == key:
        place = cached[1]
    else:
        place = scene_lonlat(scene)
        try:
            _PLACES[scene] = (key, place)
        except TypeError:
            pass
    return None if place is None else solar_position(when, *place)


__all__ = [
    "QUALITIES",
    "LookRig",
    "Quality",
    "active_passes",
    "apply_look",
    "look_colours",
    "rig_for",
    "scene_sun",
    "sun_at",
    "sun_light_direction",
]
