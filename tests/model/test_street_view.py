"""The reveal preset ends at street level in the open, not inside or against a building."""

from __future__ import annotations

import numpy as np

import citytwin.io
from citytwin.model.tour_presets import reveal_scene, street_view
from citytwin.render.scene_view import scene_from_models
from citytwin.sample import sample_path


def _building_points(model) -> np.ndarray:
    mesh = model.mesh
    roots = model.objects.roots
    types = np.asarray(model.objects.types, dtype=object).astype(str)
    tri_type = types[roots[mesh.tri_object]]
    tris = mesh.triangles[np.isin(tri_type, ["Building", "BuildingPart", "SolitaryVegetationObject"])]
    corners = mesh.vertices[tris]
    return np.concatenate([corners.reshape(-1, 3), corners.mean(axis=1)])


def test_street_view_stands_in_the_open_at_eye_height():
    model = citytwin.io.read(sample_path())
    cam = street_view([model], model.bounds, clearance=6.0)
    assert cam is not None
    eye = np.asarray(cam.position)
    nearest = np.linalg.norm(_building_points(model)[:, :2] - eye[:2], axis=1).min()
    assert nearest > 4.0, f"the camera stands {nearest:.1f} m from a building"
    ground = model.bounds[2]
    assert ground < eye[2] < ground + 10  # eye height over the ground found there
    look = np.asarray(cam.focal_point) - eye
    assert abs(look[2]) < 1e-9 and np.linalg.norm(look[:2]) >= 20  # level, down a free line


def test_reveal_of_a_scene_ends_at_its_street_view():
    model = citytwin.io.read(sample_path())
    scene = scene_from_models([model])
    tour = reveal_scene(scene, duration=8.0)
    end = tour.keyframes[-1].camera
    expected = street_view([model], scene.bounds())
    assert end.position == expected.position and end.focal_point == expected.focal_point
    start = np.asarray(tour.keyframes[0].camera.position)
    assert start[2] > np.asarray(end.position)[2] + 100  # from high above down to the street
    assert tour.duration == 8.0


def test_no_open_ground_gives_none():
    assert street_view([], [0, 0, 0, 10, 10, 10]) is None
