"""Tours as pure data: the spline, its timing settings, layer fades, captions, filters, presets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from citytwin.model.annotations import make_bookmark
from citytwin.model.camera import CameraState
from citytwin.model.interpolation import ease, fly_between, keyframe_velocities, orbit_angles
from citytwin.model.scene import Scene
from citytwin.model.tour_presets import bookmark_tour, fly_along, orbit, reveal
from citytwin.model.tours import AttributeFilter, Caption, Keyframe, Tour

BASE = np.array([85_000.0, 446_000.0, 0.0])


def cam(x: float, y: float, z: float = 50.0, focal=None, angle: float = 30.0) -> CameraState:
    p = BASE + (x, y, z)
    f = BASE + (focal if focal is not None else (x + 10.0, y + 10.0, 0.0))
    return CameraState(tuple(p), tuple(f), view_angle=angle)


def random_tour(seed: int, n: int = 6, **settings) -> Tour:
    """Keyframes scattered over a district with very uneven timing."""
    rng = np.random.default_rng(seed)
    times = np.concatenate([[0.0], np.cumsum(rng.uniform(0.4, 9.0, n - 1))])
    keyframes = []
    for t in times:
        p = BASE + rng.uniform(-500, 500, 3) * (1, 1, 0.2) + (0, 0, 120)
        f = BASE + rng.uniform(-100, 100, 3) * (1, 1, 0)
        camera = CameraState(tuple(p), tuple(f), view_angle=float(rng.uniform(20, 60)))
        keyframes.append(Keyframe(time=float(t), camera=camera, **settings))
    return Tour(name=f"random {seed}", keyframes=keyframes)


def position(tour: Tour, t) -> np.ndarray:
    return tour.cameras(t).position


def velocity(tour: Tour, t, side: int, h: float = 1e-4, channel: str = "position") -> np.ndarray:
    """Second-order one-sided finite difference (side −1: from the left, +1: from the right)."""

    def f(x):
        return np.atleast_2d(getattr(tour.cameras(x), channel).T).T

    t = np.asarray(t, float)
    return side * (-3 * f(t) + 4 * f(t + side * h) - f(t + 2 * side * h)) / (2 * h)


def arc_per_frame(tour: Tour, times: np.ndarray, sub: int = 16) -> np.ndarray:
    """Arc length of the camera's path between consecutive frame times (finely sampled, not the chord)."""
    fine = np.concatenate([np.linspace(a, b, sub, endpoint=False) for a, b in zip(times[:-1], times[1:], strict=True)])
    fine = np.append(fine, times[-1])
    steps = np.linalg.norm(np.diff(position(tour, fine), axis=0), axis=1)
    return steps.reshape(len(times) - 1, sub).sum(axis=1)


# ---------------------------------------------------------------- the spline


@pytest.mark.parametrize("seed", range(6))
def test_spline_passes_through_every_keyframe(seed):
    tour = random_tour(seed)
    track = tour.cameras(tour.times)
    for name in ("position", "focal_point", "view_up"):
        want = np.array([getattr(k.camera, name) for k in tour.keyframes])
        np.testing.assert_allclose(getattr(track, name), want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(track.view_angle, [k.camera.view_angle for k in tour.keyframes], rtol=1e-9)
    assert tour.sample(tour.times[2]).camera == tour.keyframes[2].camera  # exactly, at a keyframe's time


@pytest.mark.parametrize("seed", range(6))
def test_spline_is_c1_in_time_across_keyframes(seed):
    tour = random_tour(seed)
    inner = tour.times[1:-1]
    for channel in ("position", "focal_point"):
        left, right = velocity(tour, inner, -1, channel=channel), velocity(tour, inner, +1, channel=channel)
        scale = np.linalg.norm(left, axis=1) + 1.0
        assert (np.linalg.norm(left - right, axis=1) / scale).max() < 1e-4
    left, right = velocity(tour, inner, -1, channel="view_angle"), velocity(tour, inner, +1, channel="view_angle")
    np.testing.assert_allclose(left, right, atol=1e-4)
    # and it is really moving there, so the check means something
    assert (np.linalg.norm(velocity(tour, inner, +1), axis=1) > 1.0).all()


def test_velocity_is_the_shared_centripetal_catmull_rom_tangent():
    p = np.array([[0.0, 0, 0], [4, 0, 0], [4, 9, 0]])
    durations = np.array([2.0, 5.0])
    v = keyframe_velocities(p, durations)
    h1, h2 = 2.0, 3.0  # |ΔP| ** 0.5
    tangent = (p[1] - p[0]) / h1 - (p[2] - p[0]) / (h1 + h2) + (p[2] - p[1]) / h2
    np.testing.assert_allclose(v[1], tangent * (h1 + h2) / (2.0 + 5.0))


def test_coincident_keyframes_give_no_nan():
    a, b = cam(0, 0), cam(100, 0)
    tour = Tour(
        name="still",
        keyframes=[
            Keyframe(time=0, camera=a),
            Keyframe(time=2, camera=a),
            Keyframe(time=3, camera=b),
            Keyframe(time=5, camera=b),
            Keyframe(time=9, camera=b, constant_speed=True),
            Keyframe(time=10, camera=b),
        ],
    )
    track = tour.cameras(np.linspace(-1, 11, 500))
    for arr in (track.position, track.focal_point, track.view_up, track.view_angle):
        assert np.isfinite(arr).all()
    np.testing.assert_allclose(position(tour, [0.5, 1.5]), [a.position, a.position], atol=1e-9)
    np.testing.assert_allclose(position(tour, [6.0, 9.5]), [b.position, b.position], atol=1e-9)


def test_before_the_start_and_after_the_end_the_camera_stays_at_the_ends():
    tour = random_tour(1)
    np.testing.assert_allclose(
        position(tour, [-5.0, tour.duration + 5]),
        [tour.keyframes[0].camera.position, tour.keyframes[-1].camera.position],
    )


def test_view_up_is_a_normalised_blend():
    a = CameraState((0, 0, 10), (0, 10, 10), view_up=(0, 0, 1))
    b = CameraState((0, 10, 10), (0, 20, 10), view_up=(1, 0, 0))
    tour = Tour(name="roll", keyframes=[Keyframe(time=0, camera=a), Keyframe(time=1, camera=b)])
    up = tour.cameras([0.5]).view_up[0]
    np.testing.assert_allclose(up, np.array([1, 0, 1]) / math.sqrt(2))


# ---------------------------------------------------------------- segment settings


@pytest.mark.parametrize("seed", range(3))
def test_constant_speed_gives_equal_arc_length_per_frame(seed):
    tour = random_tour(seed, n=4, constant_speed=True)
    times = tour.frame_times(30)
    arcs = arc_per_frame(tour, times)
    segment = np.searchsorted(tour.times, times, side="right") - 1
    full = np.isclose(np.diff(times), 1 / 30)
    for s in range(3):
        inside = (segment[:-1] == s) & (segment[1:] == s) & full
        assert inside.sum() > 10
        mean = arcs[inside].mean()
        assert np.abs(arcs[inside] / mean - 1).max() < 0.02, s
    # without constant speed the same path is far from even
    plain = random_tour(seed, n=4)
    arcs = arc_per_frame(plain, times)
    assert arcs[full].max() / arcs[full].min() > 1.2


@pytest.mark.parametrize("seed", range(4))
def test_retimed_constant_speed_gives_equal_arc_length_per_frame_over_the_whole_tour(seed):
    tour = random_tour(seed).retimed_constant_speed(40.0)
    assert tour.duration == pytest.approx(40.0)
    times = tour.frame_times(30)
    arcs = arc_per_frame(tour, times)[:-1]  # the last interval is clipped at the end
    assert np.abs(arcs / arcs.mean() - 1).max() < 0.02
    # still C1: the speed is the same on both sides of a keyframe
    inner = tour.times[1:-1]
    left, right = velocity(tour, inner, -1, h=1e-6), velocity(tour, inner, +1, h=1e-6)
    np.testing.assert_allclose(left, right, rtol=1e-3, atol=1e-3)


def test_retimed_constant_speed_keeps_pauses_and_refuses_no_time_to_move():
    tour = random_tour(2, n=4)
    tour = Tour(
        name="p",
        keyframes=[tour.keyframes[0], *(Keyframe(time=k.time, camera=k.camera, pause=0.3) for k in tour.keyframes[1:])],
    )
    again = tour.retimed_constant_speed(30)
    assert [k.pause for k in again.keyframes] == [k.pause for k in tour.keyframes]
    assert again.duration == pytest.approx(30)
    with pytest.raises(ValueError, match="no time to move"):
        tour.retimed_constant_speed(0.8)


def test_linear_segments_are_straight_and_even_and_the_spline_joins_them_smoothly():
    kf = [
        Keyframe(time=0, camera=cam(0, 0), interpolation="linear"),
        Keyframe(time=4, camera=cam(400, 0)),
        Keyframe(time=8, camera=cam(400, 300)),
    ]
    tour = Tour(name="lin", keyframes=kf)
    t = np.linspace(0, 4, 9)
    np.testing.assert_allclose(position(tour, t)[:, 0] - BASE[0], 100 * t, atol=1e-9)
    np.testing.assert_allclose(velocity(tour, [4.0], -1), velocity(tour, [4.0], +1), atol=1e-3)


def test_easing_shapes_time_and_keeps_the_ends():
    u = np.linspace(0, 1, 11)
    for name in ("linear", "ease-in", "ease-out", "ease-in-out"):
        e = ease(u, name)
        assert e[0] == 0.0 and e[-1] == 1.0 and (np.diff(e) >= 0).all()
    a, b = cam(0, 0), cam(300, 0)
    starts = {}
    for name in ("ease-in", "ease-out", "ease-in-out"):
        tour = Tour(
            name=name,
            keyframes=[Keyframe(time=0, camera=a, easing=name, interpolation="linear"), Keyframe(time=3, camera=b)],
        )
        starts[name] = np.linalg.norm(velocity(tour, [0.0], +1)), np.linalg.norm(velocity(tour, [3.0], -1))
        assert position(tour, [1.5])[0, 0] - BASE[0] == pytest.approx(150 * ease(0.5, name) * 2)
    assert starts["ease-in"][0] < 1e-2 and starts["ease-in"][1] > 150
    assert starts["ease-out"][0] > 150 and starts["ease-out"][1] < 1e-2
    assert max(starts["ease-in-out"]) < 1e-2


def test_hold_stays_then_cuts_and_its_neighbours_are_at_rest():
    a, b, c = cam(0, 0), cam(200, 0), cam(200, 200)
    tour = Tour(
        name="cut",
        keyframes=[
            Keyframe(time=0, camera=a, interpolation="hold"),
            Keyframe(time=5, camera=b),
            Keyframe(time=9, camera=c),
        ],
    )
    np.testing.assert_allclose(position(tour, [0, 2.5, 4.999]), [a.position] * 3)
    assert tour.sample(5.0).camera == b
    assert np.linalg.norm(velocity(tour, [5.0], +1)) < 1e-2  # leaves b from rest


def test_pause_holds_the_camera_with_zero_velocity_and_no_lurch():
    tour = random_tour(4, n=5)
    k = tour.keyframes[2]
    gap = tour.keyframes[3].time - k.time
    paused = Tour(
        name="p",
        keyframes=[*tour.keyframes[:2], Keyframe(time=k.time, camera=k.camera, pause=gap / 2), *tour.keyframes[3:]],
    )
    during = np.linspace(k.time, k.time + gap / 2, 7)
    np.testing.assert_allclose(position(paused, during), [k.camera.position] * 7, rtol=0, atol=1e-9)
    for t in (k.time, k.time + gap / 2):  # velocity zero arriving, resting and leaving
        assert np.linalg.norm(velocity(paused, [t], -1)) < 1e-2
        assert np.linalg.norm(velocity(paused, [t], +1)) < 1e-2
    frame = paused.sample(k.time + gap / 4)
    assert frame.paused and frame.keyframe == 2 and frame.fraction == 0.0
    after = paused.sample(k.time + gap * 0.75)
    assert not after.paused and after.fraction == pytest.approx(0.5)


# ---------------------------------------------------------------- layers, captions, filters


def test_layer_fades_across_segments_and_unnamed_layers_are_left_alone():
    kf = [
        Keyframe(time=0, camera=cam(0, 0), layers={"Buildings": 0.0}),
        Keyframe(time=4, camera=cam(100, 0), layers={"Buildings": 1.0, "Trees": 0.5}, pause=2),
        Keyframe(time=10, camera=cam(200, 0)),
        Keyframe(time=14, camera=cam(300, 0), layers={"Trees": 0.0}),
    ]
    tour = Tour(name="fade", keyframes=kf)
    assert tour.layer_names == ["Buildings", "Trees"]
    assert tour.sample(0).layers == {"Buildings": 0.0, "Trees": 0.5}  # nearest value before the first mention
    assert tour.sample(1).layers["Buildings"] == pytest.approx(0.25)
    assert tour.sample(5).layers == {"Buildings": 1.0, "Trees": 0.5}  # the pause holds
    assert tour.sample(10).layers["Trees"] == pytest.approx(0.25)  # fades from the end of the pause (6 s) to 14 s
    assert tour.sample(20).layers == {"Buildings": 1.0, "Trees": 0.0}
    assert "Terrain" not in tour.sample(3).layers
    opacities = tour.opacities([0.0, 2.0, 4.0])
    np.testing.assert_allclose(opacities["Buildings"], [0.0, 0.5, 1.0])


def test_caption_spans():
    kf = [
        Keyframe(time=0, camera=cam(0, 0), caption=Caption(title="Harbour", subtitle="1850")),
        Keyframe(time=4, camera=cam(100, 0)),
        Keyframe(time=8, camera=cam(200, 0), caption=Caption(title="Station", duration=1.5)),
        Keyframe(time=12, camera=cam(300, 0), caption=Caption(title="", subtitle="The end")),
        Keyframe(time=16, camera=cam(400, 0), pause=2),
    ]
    tour = Tour(name="captions", keyframes=kf)
    assert tour.sample(0).caption.title == "Harbour"
    assert tour.sample(3.99).caption.subtitle == "1850"
    assert tour.sample(4).caption is None  # until the next keyframe by default
    assert tour.sample(9.4).caption.title == "Station"
    assert tour.sample(9.6).caption is None
    assert tour.sample(15).caption.subtitle == "The end"
    with pytest.raises(ValueError, match="title or a subtitle"):
        Caption(title=" ")
    last = Tour(name="end", keyframes=[kf[0], Keyframe(time=4, camera=cam(1, 1), caption=Caption(title="Fin"))])
    assert last.sample(4).caption.title == "Fin"  # the last keyframe's caption shows to the end


def test_filter_threshold_moves_linearly_between_keyframes_on_the_same_attribute():
    year = "yearOfConstruction"
    kf = [
        Keyframe(time=0, camera=cam(0, 0), filter=AttributeFilter(attribute=year, max=1850)),
        Keyframe(time=5, camera=cam(100, 0), pause=1),
        Keyframe(time=10, camera=cam(200, 0), filter=AttributeFilter(attribute=year, max=2020)),
        Keyframe(time=12, camera=cam(300, 0), filter=AttributeFilter(attribute="measuredHeight", max=30)),
        Keyframe(time=14, camera=cam(400, 0)),
    ]
    tour = Tour(name="growth", keyframes=kf)
    assert tour.sample(0).filter == AttributeFilter(attribute=year, max=1850)
    assert tour.sample(5.5).filter.max == pytest.approx(1850 + 170 * 0.55)  # linear in time, pauses included
    assert tour.sample(11).filter == AttributeFilter(attribute=year, max=2020)  # next filter: another attribute
    assert tour.sample(13).filter == AttributeFilter(attribute="measuredHeight", max=30)
    assert random_tour(0).sample(1).filter is None
    hidden = AttributeFilter(attribute=year, max=1900).hidden([1850, 1900, 1901, np.nan])
    assert hidden.tolist() == [False, False, True, False]  # objects without the attribute stay shown


# ---------------------------------------------------------------- timing and validation


def test_frame_times_are_deterministic():
    tour = Tour(name="t", keyframes=[Keyframe(time=0, camera=cam(0, 0)), Keyframe(time=10, camera=cam(1, 0))])
    times = tour.frame_times(30)
    assert len(times) == 301 and times[0] == 0.0 and times[-1] == 10.0
    np.testing.assert_allclose(np.diff(times), 1 / 30)
    odd = Tour(name="t", keyframes=[Keyframe(time=0, camera=cam(0, 0)), Keyframe(time=1.01, camera=cam(1, 0))])
    assert len(odd.frame_times(25)) == 26 and odd.frame_times(25)[-1] == 1.0
    long = Tour(name="t", keyframes=[Keyframe(time=0, camera=cam(0, 0)), Keyframe(time=1.03, camera=cam(1, 0))])
    assert len(long.frame_times(25)) == 27 and long.frame_times(25)[-1] == 1.03
    with pytest.raises(ValueError, match="frames per second"):
        tour.frame_times(0)


@pytest.mark.parametrize(
    ("keyframes", "name", "message"),
    [
        ([(0, {})], "t", "at least two keyframes"),
        ([(0, {}), (0, {})], "t", r"keyframe 2 \(at 0 s\) must come after keyframe 1"),
        ([(3, {}), (1, {})], "t", "must come after"),
        ([(-1, {}), (1, {})], "t", "time must be a finite number"),
        ([(0, {}), (math.inf, {})], "t", "time must be a finite number"),
        ([(0, {"pause": 2}), (2, {})], "t", "pause of 2 s must end before keyframe 2"),
        ([(0, {"pause": -1}), (2, {})], "t", "pause must be"),
        ([(0, {"interpolation": "cubic"}), (2, {})], "t", "interpolation must be one of"),
        ([(0, {"easing": "bounce"}), (2, {})], "t", "easing must be one of"),
        ([(0, {"layers": {"Buildings": 2}}), (2, {})], "t", "between 0 and 1"),
        ([(0, {"layers": {"": 1}}), (2, {})], "t", "needs a name"),
        ([(0, {}), (2, {})], " ", "needs a name"),
    ],
)
def test_invalid_tours_are_refused_in_one_sentence(keyframes, name, message):
    with pytest.raises(ValueError, match=message) as info:
        Tour(name=name, keyframes=[Keyframe(time=t, camera=cam(i, 0), **kw) for i, (t, kw) in enumerate(keyframes)])
    assert "\n" not in str(info.value)


def test_bad_cameras_and_filters_are_refused():
    with pytest.raises(ValueError, match="position and focal point"):
        Keyframe(time=0, camera=CameraState((1, 2, 3), (1, 2, 3)))
    with pytest.raises(ValueError, match="finite"):
        Keyframe(time=0, camera=CameraState((math.nan, 2, 3), (1, 2, 3)))
    with pytest.raises(ValueError, match="view angle"):
        Keyframe(time=0, camera=CameraState((0, 2, 3), (1, 2, 3), view_angle=0))
    with pytest.raises(ValueError, match="finite"):
        AttributeFilter(attribute="a", max=math.inf)


def test_a_tour_in_the_scene_is_an_undoable_item():
    scene = Scene()
    tour = random_tour(0)
    scene.add_item(tour)
    assert list(scene.tours) == [tour] and scene.undo_stack.undo_text == "Add tour 'random 0'"
    edited = scene.edit_item(tour, name="Harbour")
    assert scene.tours[0] is edited
    with pytest.raises(ValueError, match="at least two"):
        scene.edit_item(edited, keyframes=edited.keyframes[:1])
    assert scene.tours[0] is edited
    scene.undo_stack.undo()
    assert scene.tours[0] is tour
    scene.undo_stack.undo()
    assert len(scene.tours) == 0


# ---------------------------------------------------------------- one interpolation for every camera move


def test_camera_lerp_and_fly_between_share_the_interpolation_module():
    a = CameraState((0, -100, 50), (0, 0, 0))
    b = CameraState((100, 0, 50), (10, 0, 0), view_angle=40)
    assert a.lerp(b, 0.5).position == (50.0, -50.0, 50.0)
    assert a.lerp(b, 0.0) == a and a.lerp(b, 1.0) == b
    assert fly_between(a, b, 0.0) == a and fly_between(a, b, 1.0) == b
    mid = fly_between(CameraState((0, -100, 0), (0, 0, 0)), CameraState((-400, 0, 0), (0, 0, 0)), 0.5)
    az, el, dist = orbit_angles(mid.position, mid.focal_point)
    assert az == pytest.approx(225.0)  # 180° → 270°, the short way
    assert dist == pytest.approx(200.0)  # geometric mean of 100 and 400
    quarter = fly_between(a, b, 0.25)
    assert all(math.isfinite(v) for v in quarter.position)


# ---------------------------------------------------------------- presets


@pytest.mark.parametrize(("turns", "clockwise"), [(1.0, False), (0.35, True), (2.5, False)])
def test_orbit_stays_on_its_circle(turns, clockwise):
    centre = (85_000.0, 446_000.0, 12.0)
    tour = orbit(centre, radius=250.0, height=80.0, turns=turns, duration=30.0, start_azimuth=45, clockwise=clockwise)
    track = tour.cameras(np.linspace(0, tour.duration, 4001))
    radius = np.hypot(track.position[:, 0] - centre[0], track.position[:, 1] - centre[1])
    assert np.abs(radius / 250.0 - 1).max() < 0.005
    np.testing.assert_allclose(track.position[:, 2], 92.0)
    np.testing.assert_allclose(track.focal_point, [centre] * len(track), atol=1e-9)
    az = np.array([orbit_angles(p, centre)[0] for p in track.position[[0, -1]]])
    swept = ((az[1] - az[0]) * (1 if clockwise else -1)) % 360
    assert swept == pytest.approx((360 * turns) % 360, abs=1e-6)
    assert tour.duration == 30.0


def test_fly_along_a_path_looks_ahead_at_a_constant_speed():
    path = [(85_000, 446_000, 2), (85_300, 446_000, 4), (85_300, 446_400, 6), (85_000, 446_700, 2)]
    tour = fly_along(path, height=40, duration=60)
    assert tour.duration == pytest.approx(60) and len(tour.keyframes) == 4
    first = tour.keyframes[0].camera
    assert first.position == (85_000.0, 446_000.0, 42.0)
    assert first.focal_point[0] > first.position[0] and first.focal_point[2] < first.position[2]  # ahead, down
    arcs = arc_per_frame(tour, tour.frame_times(25))[:-1]
    assert np.abs(arcs / arcs.mean() - 1).max() < 0.02
    with pytest.raises(ValueError, match="two different points"):
        fly_along([(0, 0, 0), (0, 0, 0)])


def test_bookmark_tour_flies_from_view_to_view_and_rests_at_each():
    marks = [make_bookmark(n, cam(x, y)) for n, x, y in (("Harbour", 0, 0), ("Station", 500, 100), ("Park", 0, 600))]
    tour = Tour.from_bookmarks(marks, seconds_per_leg=6, pause=2, captions=True)
    assert [k.time for k in tour.keyframes] == [0.0, 8.0, 16.0] and tour.duration == 18.0
    assert [k.camera for k in tour.keyframes] == [m.camera for m in marks]
    assert tour.sample(9.0).caption.title == "Station" and tour.sample(9.0).paused
    assert np.linalg.norm(velocity(tour, [10.0], +1)) < 1e-2
    plain = bookmark_tour([m.camera for m in marks], 5)
    assert [k.time for k in plain.keyframes] == [0.0, 5.0, 10.0] and plain.keyframes[0].caption is None


def test_reveal_descends_from_an_overview_to_eye_height():
    bounds = (84_500.0, 445_600.0, -3.0, 85_500.0, 446_300.0, 90.0)
    tour = reveal(bounds, duration=20)
    assert tour.duration == pytest.approx(20)
    track = tour.cameras(np.linspace(0, 20, 2001))
    first, last = tour.keyframes[0].camera, tour.keyframes[-1].camera
    assert first.position[2] > 1000 and last.position[2] == pytest.approx(-1.0)
    assert last.focal_point[2] == pytest.approx(-1.0)  # looking level at the centre
    assert track.position[:, 2].min() > -3.0 + 1.5  # never through the ground
    assert np.isfinite(track.position).all()
    with pytest.raises(ValueError, match="bounds"):
        reveal((0, 0, 0, -1, 1, 1))
