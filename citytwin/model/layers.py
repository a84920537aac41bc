"""Layers: what the scene shows, as evented data.

Every field of a layer emits an event when it changes
(``layer.events.visible.connect(...)``); the renderer follows these events and
the layer panel sets the fields (through commands). Neither knows the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psygnal import evented
from psygnal.containers import EventedList

from citytwin.model.citymodel import CityModel
from citytwin.model.project import DerivedLayer, Source


@evented
@dataclass(eq=False)
class Layer:
    """Base of every layer kind.

    Attributes
    ----------
    name
        Shown in the layer tree.
    visible
        Whether the layer is drawn.
    opacity
        0 (invisible) to 1 (opaque).
    source
        Where the layer was read from: the file, its id in the project and how it
        was read (``layer`` unset: the layer's own fields say how it is shown).
        ``None`` for a layer made in citytwin (a terrain). Keyword-only.
    derived
        For a layer made in citytwin from a source's data (a terrain), how it was made:
        a project keeps that and makes it again on open. Keyword-only.
    """

    name: str = "Layer"
    visible: bool = True
    opacity: float = 1.0
    source: Source | None = field(default=None, kw_only=True, repr=False)
    derived: DerivedLayer | None = field(default=None, kw_only=True, repr=False)

    @property
    def bounds(self):  # pragma: no cover - overridden
        raise NotImplementedError


COLOUR_MODES = ("semantic", "single", "attribute", "texture", "elevation")


@evented
@dataclass(eq=False)
class CityModelLayer(Layer):
    """A city model read from one file.

    Attributes
    ----------
    model
        The data (not evented: it is replaced, never edited in place, by this layer).
    lod
        LoD code shown (see :func:`citytwin.model.semantics.lod_code`); ``None`` shows
        the highest LoD each object has.
    colour_mode
        One of :data:`COLOUR_MODES`.
    colour_attribute
        Attribute used when ``colour_mode == "attribute"``.
    single_colour
        RGB 0–1 used when ``colour_mode == "single"``.
    hidden_semantics
        Semantic class codes not drawn (e.g. roofs switched off in the tree).
    hidden_types
        Top-level object types not drawn (e.g. "SolitaryVegetationObject").
    hidden_ids
        Ids of objects hidden in the view (Edit → Hide Objects), with their parts. View
        state, not an edit of the data: a scenario's deletions are written, hidden objects are not.
    selection
        Indices of selected objects.
    """

    model: CityModel | None = None
    lod: int | None = None
    colour_mode: str = "semantic"
    colour_attribute: str | None = None
    single_colour: tuple[float, float, float] = (0.86, 0.84, 0.80)
    hidden_semantics: frozenset[int] = field(default_factory=frozenset)
    hidden_types: frozenset[str] = field(default_factory=frozenset)
    hidden_ids: frozenset[str] = field(default_factory=frozenset)
    selection: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.colour_mode not in COLOUR_MODES:
            raise ValueError(f"colour_mode must be one of {COLOUR_MODES}")

    @property
    def display_model(self) -> CityModel | None:
        """The model as drawn: reprojected to the scene's display CRS when that differs."""
        return getattr(self, "_display_model", None) or self.model

    def set_display_model(self, model: CityModel | None) -> None:
        """Set by the scene when the layer joins it (not an undoable change)."""
        self._display_model = model

    @property
    def bounds(self):
        """Bounds in the scene's display CRS."""
        model = self.display_model
        return model.bounds if model is not None else None

    @property
    def crs(self):
        """The source CRS."""
        return self.model.crs if self.model is not None else None

    def info(self) -> dict[str, Any]:
        return {} if self.model is None else self.model.summary()


class LayerList(EventedList):
    """The scene's layers in drawing order; emits inserted/removed/moved events."""

    def __init__(self, data=()):
        super().__init__(data, hashable=False)

    def by_name(self, name: str) -> Layer | None:
        """The first layer with that name."""
        return next((layer for layer in self if layer.name == name), None)
