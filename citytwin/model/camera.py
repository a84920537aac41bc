"""The camera as data: what a view, a bookmark or a tour keyframe stores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CameraState:
    """A camera in world coordinates (float64, not scene-relative) of the CRS the scene is drawn in: the data's
    own, or its UTM zone when the data is in latitude/longitude.

    Attributes
    ----------
    position, focal_point
        Eye and target points.
    view_up
        Up direction (kept at +Z for city navigation).
    view_angle
        Vertical field of view in degrees.
    """

    position: tuple[float, float, float]
    focal_point: tuple[float, float, float]
    view_up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    view_angle: float = 30.0

    def __post_init__(self) -> None:
        for name in ("position", "focal_point", "view_up"):
            object.__setattr__(self, name, tuple(float(v) for v in getattr(self, name)))
        object.__setattr__(self, "view_angle", float(self.view_angle))

    @property
    def distance(self) -> float:
        """Distance from the eye to the focal point."""
        return float(np.linalg.norm(np.subtract(self.position, self.focal_point)))

    def to_dict(self) -> dict[str, list[float] | float]:
        """A JSON-ready form (for project files and bookmarks)."""
        return {
            "position": list(self.position),
            "focal_point": list(self.focal_point),
            "view_up": list(self.view_up),
            "view_angle": self.view_angle,
        }

    @classmethod
    def from_dict(cls, data: dict) -> CameraState:
        """Inverse of :meth:`to_dict`."""
        return cls(
            tuple(float(v) for v in data["position"]),
            tuple(float(v) for v in data["focal_point"]),
            tuple(float(v) for v in data.get("view_up", (0, 0, 1))),
            float(data.get("view_angle", 30.0)),
        )

    def lerp(self, other: CameraState, t: float) -> CameraState:
        """Straight interpolation of every field, ``view_up`` normalised (see :mod:`citytwin.model.interpolation`)."""
        from citytwin.model.interpolation import lerp_camera  # it builds on this module

        return lerp_camera(self, other, t)
