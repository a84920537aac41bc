"""Preset views and camera fitting as pure functions on bounds (numpy only, no VTK).

Conventions: x is east, y is north, z is up, and bounds are relative to the
scene origin. A preset is named after **where the camera stands**: ``"north"``
looks from the north towards the south (it shows the north façades),
``"oblique-ne"`` looks down from the north-east. ``"top"`` looks straight down
with north up. The view angle is vertical, as VTK's ``vtkCamera.ViewAngle``.

Fitting is exact for a set of points (the model's vertices, or the 8 corners of
its bounding box): the camera moves back and sideways until the points are
centred and span :data:`FILL` of the image's limiting dimension, for the
window's aspect ratio (:func:`fit_points`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Preset name → (azimuth of the camera in degrees clockwise from north, elevation in degrees).
PRESETS: dict[str, tuple[float, float]] = {
    "top": (0.0, 90.0),
    "north": (0.0, 0.0),
    "east": (90.0, 0.0),
    "south": (180.0, 0.0),
    "west": (270.0, 0.0),
    "oblique-ne": (45.0, 40.0),
    "oblique-se": (135.0, 40.0),
    "oblique-sw": (225.0, 40.0),
    "oblique-nw": (315.0, 40.0),
}

VIEW_NAMES: tuple[str, ...] = tuple(PRESETS)


@dataclass(frozen=True)
class CameraPose:
    """A perspective camera: where it is, what it looks at, which way is up.

    Attributes
    ----------
    position, focal_point, view_up
        ``(3,)`` float64, relative to the scene origin.
    view_angle
        Vertical field of view in degrees.
    """

    position: np.ndarray
    focal_point: np.ndarray
    view_up: np.ndarray
    view_angle: float = 30.0

    @property
    def direction(self) -> np.ndarray:
        """Unit vector from the camera to the focal point."""
        d = np.asarray(self.focal_point, float) - np.asarray(self.position, float)
        return d / np.linalg.norm(d)

    @property
    def distance(self) -> float:
        return float(np.linalg.norm(np.asarray(self.focal_point, float) - np.asarray(self.position, float)))

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Right, true up and backward unit vectors of the view (camera looks along ``-back``)."""
        back = -self.direction
        right = np.cross(np.asarray(self.view_up, float), back)
        right /= np.linalg.norm(right)
        up = np.cross(back, right)
        return right, up, back

    def apply(self, camera: Any) -> None:
        """Copy the pose onto a ``vtkCamera`` (duck-typed, so this module stays VTK-free)."""
        camera.SetPosition(*map(float, self.position))
        camera.SetFocalPoint(*map(float, self.focal_point))
        camera.SetViewUp(*map(float, self.view_up))
        camera.SetViewAngle(float(self.view_angle))
        camera.OrthogonalizeViewUp()

    @classmethod
    def from_state(cls, state: Any, origin: np.ndarray) -> CameraPose:
        """The pose of a :class:`~citytwin.model.camera.CameraState` (world coordinates) relative to ``origin``."""
        o = np.asarray(origin, np.float64)
        return cls(
            np.asarray(state.position, np.float64) - o,
            np.asarray(state.focal_point, np.float64) - o,
            np.asarray(state.view_up, np.float64),
            float(state.view_angle),
        )

    def to_state(self, origin: np.ndarray) -> Any:
        """The :class:`~citytwin.model.camera.CameraState` (world coordinates) of this pose."""
        from citytwin.model.camera import CameraState

        o = np.asarray(origin, np.float64)
        return CameraState(
            tuple(float(v) for v in np.asarray(self.position, np.float64) + o),
            tuple(float(v) for v in np.asarray(self.focal_point, np.float64) + o),
            tuple(float(v) for v in np.asarray(self.view_up, np.float64)),
            float(self.view_angle),
        )

    @classmethod
    def from_vtk(cls, camera: Any) -> CameraPose:
        """Read a pose back from a ``vtkCamera``."""
        return cls(
            np.array(camera.GetPosition(), float),
            np.array(camera.GetFocalPoint(), float),
            np.array(camera.GetViewUp(), float),
            float(camera.GetViewAngle()),
        )


def camera_basis(cam: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The camera's eye and its unit forward, up (square to forward) and right vectors (a ``vtkCamera``'s frame)."""
    eye = np.array(cam.GetPosition(), float)
    forward = np.array(cam.GetFocalPoint(), float) - eye
    forward /= np.linalg.norm(forward) or 1.0
    up = np.array(cam.GetViewUp(), float)
    up -= forward * float(up @ forward)
    up /= np.linalg.norm(up) or 1.0
    return eye, forward, up, np.cross(forward, up)


def direction_for(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    """Unit vector from the target **to the camera** for a compass azimuth and an elevation."""
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    return np.array([np.sin(az) * np.cos(el), np.cos(az) * np.cos(el), np.sin(el)])


def box_corners(bounds: np.ndarray | list[float]) -> np.ndarray:
    """``(8, 3)`` corners of ``[xmin, ymin, zmin, xmax, ymax, zmax]``."""
    b = np.asarray(bounds, float)
    xs, ys, zs = (b[0], b[3]), (b[1], b[4]), (b[2], b[5])
    return np.array([[x, y, z] for x in xs for y in ys for z in zs])


def fit_distance(
    corners: np.ndarray,
    focal_point: np.ndarray,
    right: np.ndarray,
    up: np.ndarray,
    back: np.ndarray,
    view_angle: float,
    aspect: float,
) -> float:
    """Smallest distance from the focal point along ``back`` at which every corner is in view."""
    rel = np.asarray(corners, float) - focal_point
    u = np.abs(rel @ right)
    v = np.abs(rel @ up)
    d = rel @ back  # towards the camera
    tan_y = np.tan(np.radians(view_angle) / 2)
    tan_x = tan_y * aspect
    need = np.maximum(d + u / tan_x, d + v / tan_y)
    # keep the near side of the box in front of the camera as well
    return float(max(need.max(), d.max() + 1e-3, 1e-3))


#: default share of the view's limiting dimension (width or height) the fitted model fills
FILL = 0.88


def fit_points(
    points: np.ndarray,
    right: np.ndarray,
    up: np.ndarray,
    back: np.ndarray,
    view_angle: float,
    aspect: float,
    fill: float = FILL,
) -> tuple[np.ndarray, float]:
    """Camera position that frames ``points`` exactly, for a fixed viewing direction.

    The camera is placed (moved sideways as well as back) so that the projected points are
    centred and span ``fill`` of the view's limiting dimension: every frustum side plane,
    narrowed by ``fill``, touches a point. Exact under perspective, unlike a fit around
    the centre of the bounding box, which leaves more room on the far side.

    Parameters
    ----------
    points
        ``(N, 3)`` points to frame (the model's vertices, or box corners).
    right, up, back
        Orthonormal view basis (the camera looks along ``-back``).
    view_angle
        Vertical field of view in degrees.
    aspect
        Width / height of the view.
    fill
        Share (0–1] of the limiting dimension the points span.

    Returns
    -------
    position, depth
        The camera position and the depth (along the view) of the points' middle, a good
        focal distance.
    """
    pts = np.asarray(points, float).reshape(-1, 3)
    tan_y = np.tan(np.radians(view_angle) / 2) * float(np.clip(fill, 1e-3, 1.0))
    tan_x = tan_y * aspect
    x, y, z = pts @ right, pts @ up, pts @ back
    # camera at c = cx right + cy up + cz back sees p when |x - cx| <= tan (cz - z) (same for y):
    # tan cz + cx >= x + tan z and tan cz - cx >= -x + tan z for every point
    a_x, b_x = float((x + tan_x * z).max()), float((-x + tan_x * z).max())
    a_y, b_y = float((y + tan_y * z).max()), float((-y + tan_y * z).max())
    cz = max((a_x + b_x) / (2 * tan_x), (a_y + b_y) / (2 * tan_y))
    z_far, z_near = float(z.min()), float(z.max())
    size = max(float(np.ptp(x)), float(np.ptp(y)), z_near - z_far, 1e-3)
    cz = max(cz, z_near + 1e-3 * size)  # every point in front of the camera
    cx = _centre_offset(x, z, cz, tan_x)
    cy = _centre_offset(y, z, cz, tan_y)
    position = cx * right + cy * up + cz * back
    depth = cz - (z_far + z_near) / 2
    return position, float(max(depth, 1e-3 * size))


def _centre_offset(u: np.ndarray, z: np.ndarray, cz: float, tan: float) -> float:
    """Sideways camera offset that centres the projections ``(u - c) / (cz - z)`` of the points.

    Where this dimension limits the fit the points span exactly ``tan``; in the other one they
    span less, and the narrowest half-angle ``t`` whose frustum still holds them (found by
    bisection) gives the centring offset.
    """

    def spans(t: float) -> tuple[float, float]:
        return float((u + t * z).max()), float((-u + t * z).max())

    lo, hi = 0.0, tan
    for _ in range(50):  # smallest t with t cz >= (a(t) + b(t)) / 2
        mid = (lo + hi) / 2
        a, b = spans(mid)
        if mid * cz >= (a + b) / 2:
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-9 * tan:
            break
    a, b = spans(hi)
    return (a - b) / 2


def pose_for_points(
    points: np.ndarray,
    back: np.ndarray,
    view_up: np.ndarray,
    *,
    view_angle: float = 30.0,
    aspect: float = 16 / 9,
    fill: float = FILL,
) -> CameraPose:
    """A pose looking along ``-back`` that frames ``points`` tightly (see :func:`fit_points`)."""
    back = np.asarray(back, float)
    back = back / np.linalg.norm(back)
    right = np.cross(np.asarray(view_up, float), back)
    right /= np.linalg.norm(right)
    up = np.cross(back, right)
    position, depth = fit_points(points, right, up, back, view_angle, aspect, fill)
    return CameraPose(position, position - back * depth, np.asarray(view_up, float), view_angle)


def preset_view(
    bounds: np.ndarray | list[float],
    view: str = "oblique-ne",
    *,
    view_angle: float = 30.0,
    aspect: float = 16 / 9,
    fill: float = FILL,
    elevation: float | None = None,
    points: np.ndarray | None = None,
) -> CameraPose:
    """A camera pose that shows the whole box (or the points in it) from a preset direction.

    Parameters
    ----------
    bounds
        ``[xmin, ymin, zmin, xmax, ymax, zmax]`` relative to the scene origin.
    view
        One of :data:`VIEW_NAMES`.
    view_angle
        Vertical field of view in degrees.
    aspect
        Width / height of the image.
    fill
        Share of the image's limiting dimension (width or height) the model spans.
    elevation
        Override the preset's elevation in degrees (not for ``"top"``).
    points
        ``(N, 3)`` the model's actual points (or a sample of them): the fit frames what is there,
        not the corners of its box, which an oblique view shows much larger than the model.

    Returns
    -------
    CameraPose

    Raises
    ------
    ValueError
        For an unknown view name or empty bounds.
    """
    if view not in PRESETS:
        raise ValueError(f"unknown view {view!r}; choose one of {', '.join(VIEW_NAMES)}")
    b = np.asarray(bounds, float)
    if b.shape != (6,) or not np.isfinite(b).all():
        raise ValueError("cannot fit a camera to empty bounds")
    azimuth, elev = PRESETS[view]
    if elevation is not None and view != "top":
        elev = float(elevation)
    back = direction_for(azimuth, elev)
    view_up = np.array([0.0, 1.0, 0.0]) if view == "top" else np.array([0.0, 0.0, 1.0])
    pts = box_corners(b) if points is None or len(points) == 0 else np.asarray(points, float)
    return pose_for_points(pts, back, view_up, view_angle=view_angle, aspect=aspect, fill=fill)


def project(pose: CameraPose, points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Pixel positions of points in an image rendered with ``pose``.

    Parameters
    ----------
    pose
        The camera.
    points
        ``(N, 3)`` relative to the scene origin.
    size
        ``(width, height)`` of the image.

    Returns
    -------
    numpy.ndarray
        ``(N, 2)`` float ``(column, row)``, row 0 at the top of the image (as in a PNG
        or ``render_image``'s array). Points behind the camera give NaN.
    """
    w, h = size
    right, up, back = pose.basis()
    rel = np.atleast_2d(np.asarray(points, float)) - np.asarray(pose.position, float)
    depth = -(rel @ back)
    tan_y = np.tan(np.radians(pose.view_angle) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (rel @ right) / (depth * tan_y * (w / h))
        y = (rel @ up) / (depth * tan_y)
    out = np.stack([(x + 1) / 2 * w, (1 - y) / 2 * h], axis=1)
    out[depth <= 0] = np.nan
    return out
