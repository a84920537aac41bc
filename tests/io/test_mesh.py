"""Mesh files (OBJ, glTF/GLB, PLY, STL, OFF) as city models, checked against trimesh's own numbers."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
import trimesh

from citytwin.errors import ReaderError
from citytwin.io.options import LoadOptions
from citytwin.io.registry import pick_reader, read
from citytwin.model.citymodel import CityModel
from tests.conftest import shared_file

#: Every file of ../shared/data/mesh: (format, object rows).
MESH_FILES = {
    "3dfier_testarea.obj": ("OBJ", 570),
    "lyon1_buildings_tile1.glb": ("glTF", 322),  # 3D Tiles payload: one row per batch (building)
    "lyon_extrait_1_terrain_lyon_5.obj": ("OBJ", 1),
    "lyon_extrait_3_terrain_lyon_2.obj": ("OBJ", 1),
    "lyon_tour_part_dieu.obj": ("OBJ", 1),
}


def test_the_list_covers_every_mesh_file(shared_data):
    assert sorted(p.name for p in (shared_data / "mesh").iterdir()) == sorted(MESH_FILES)


def _reference(path):
    """trimesh's own view: world-space triangles of every node (trimesh's defaults)."""
    scene = trimesh.load(path, force="scene")
    tris = []
    for node in scene.graph.nodes_geometry:
        transform, name = scene.graph[node]
        geom = scene.geometry[name]
        tris.append(trimesh.transform_points(geom.vertices, transform)[geom.faces])
    return scene, np.concatenate(tris)


def _z_up(points, fmt):
    """glTF is +Y up; citytwin turns it to +Z up: (x, y, z) → (x, -z, y)."""
    if fmt != "glTF":
        return points
    return np.stack([points[..., 0], -points[..., 2], points[..., 1]], axis=-1)


@pytest.fixture(scope="module")
def loaded():
    cache = {}

    def get(name):
        if name not in cache:
            path = shared_file(f"mesh/{name}")
            cache[name] = (read(path), *_reference(path))
        return cache[name]

    return get


@pytest.mark.parametrize("name", sorted(MESH_FILES))
def test_triangles_objects_and_bounds_match_trimesh(loaded, name):
    model, scene, ref_tris = loaded(name)
    fmt, n_objects = MESH_FILES[name]
    assert isinstance(model, CityModel) and model.format == fmt
    assert model.crs.epsg is None
    # trimesh's triangles, less the degenerate ones (zero area) citytwin drops and reports.
    ref_tris = _z_up(ref_tris, fmt)
    area2 = np.linalg.norm(np.cross(ref_tris[:, 1] - ref_tris[:, 0], ref_tris[:, 2] - ref_tris[:, 0]), axis=1)
    good = area2 > 1e-12
    assert model.mesh.n_triangles == int(good.sum())
    assert sum(len(g.faces) for g in scene.geometry.values()) == len(ref_tris)
    n_bad = int((~good).sum())
    if n_bad:
        assert any(w.startswith(f"{n_bad:,} degenerate triangles") for w in model.warnings)
    # One polygon (one ring) per triangle; zero-area ones keep a polygon without a triangle.
    assert model.mesh.n_triangles <= model.mesh.n_polygons <= len(ref_tris)
    assert (np.diff(model.mesh.polygon_rings) == 1).all() and (np.diff(model.mesh.ring_offsets) == 3).all()
    assert len(model.objects) == n_objects
    assert model.summary()["objects"] == {"Mesh": n_objects}
    kept = ref_tris[good].reshape(-1, 3)
    np.testing.assert_allclose(model.bounds, np.concatenate([kept.min(0), kept.max(0)]), rtol=1e-12, atol=1e-6)

    # The triangles are trimesh's, corner for corner (compared as sorted sets: grouping differs).
    def canonical(tris):
        flat = np.round(tris.reshape(len(tris), 9), 6)
        return flat[np.lexsort(flat.T[::-1])]

    np.testing.assert_allclose(
        canonical(model.mesh.vertices[model.mesh.triangles]), canonical(ref_tris[good]), rtol=1e-12, atol=1e-5
    )
    json.dumps(model.summary())


def test_obj_objects_are_the_files_objects(loaded):
    model, _, _ = loaded("3dfier_testarea.obj")
    text = shared_file("mesh/3dfier_testarea.obj").read_text()
    # Faces per "o" block, counted from the text.
    blocks = re.split(r"^o ", text, flags=re.M)[1:]
    expected = {b.split("\n", 1)[0].strip(): len(re.findall(r"^f ", b, flags=re.M)) for b in blocks}
    assert model.objects.ids == list(expected)
    got = np.bincount(model.mesh.tri_object, minlength=len(model.objects))
    diff = np.array([expected[i] for i in model.objects.ids]) - got
    assert (diff >= 0).all() and diff.sum() == 3  # the 3 degenerate triangles
    # usemtl names kept, even without the .mtl
    materials = {a.get("material") for a in model.objects.attributes}
    assert {"Building", "Road", "Water", "Terrain"} <= materials


def test_missing_mtl_is_a_warning(loaded):
    model, _, _ = loaded("3dfier_testarea.obj")
    assert any("'3dfier.mtl' is missing" in w for w in model.warnings)
    assert model.mesh.materials == []


def test_3dfier_obj_lines_up_with_its_cityjson(loaded):
    model, _, _ = loaded("3dfier_testarea.obj")
    cj = read(shared_file("cityjson/3dfier_testarea.json"))
    np.testing.assert_allclose(model.bounds[[0, 1, 3, 4]], cj.bounds[[0, 1, 3, 4]], atol=1e-3)
    assert set(model.objects.ids) == set(cj.objects.ids)


def test_gltf_node_transforms_materials_and_batches(loaded):
    model, scene, _ = loaded("lyon1_buildings_tile1.glb")
    assert model.version == "2.0"
    # Heights are the short side after the Y-up → Z-up turn (a city tile is wider than tall).
    size = model.bounds[3:] - model.bounds[:3]
    assert size[2] < size[0] and size[2] < size[1]
    # One material per glTF material, with the base colour factor.
    ref = {
        g.visual.material.name: np.asarray(g.visual.material.baseColorFactor, float) / 255
        for g in scene.geometry.values()
    }
    assert len(model.mesh.materials) == len(ref)
    for mat in model.mesh.materials:
        np.testing.assert_allclose(mat.diffuse, ref[mat.name][:3], atol=1e-6)
    theme = model.mesh.appearances["default"]
    assert (theme.material >= 0).all()
    # Rows are the batch ids of the 3D Tiles payload.
    assert sorted(a["batch_id"] for a in model.objects.attributes) == list(range(322))
    assert len(np.unique(model.mesh.poly_object)) == 322


def _mtl_pair(tmp_path):
    (tmp_path / "box.mtl").write_text("newmtl red\nKd 1 0 0\nnewmtl blue\nKd 0 0 1\nd 0.5\n")
    (tmp_path / "box.obj").write_text(
        "mtllib box.mtl\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 1\n"
        "o first\nusemtl red\nf 1 2 3\nf 1 3 4\nusemtl blue\nf 1 2 5\n"
        "o second_part\nusemtl blue\nf 2 3 5\n"
    )
    return tmp_path / "box.obj"


def test_obj_with_mtl_colours(tmp_path):
    model = read(_mtl_pair(tmp_path))
    assert model.warnings == []
    assert model.objects.ids == ["first", "second_part"]
    assert np.bincount(model.mesh.tri_object).tolist() == [3, 1]
    mats = {m.name: m for m in model.mesh.materials}
    assert mats["red"].diffuse == pytest.approx((1, 0, 0)) and mats["blue"].diffuse == pytest.approx((0, 0, 1))
    assert mats["blue"].transparency == pytest.approx(0.5, abs=0.01)
    theme = model.mesh.appearances["default"]
    names = [model.mesh.materials[m].name for m in theme.material]
    by_object = {(int(o), n) for o, n in zip(model.mesh.poly_object, names, strict=True)}
    assert by_object == {(0, "red"), (0, "blue"), (1, "blue")}


def test_sidecar_json_georeferences(tmp_path):
    src = shared_file("mesh/lyon_tour_part_dieu.obj")
    path = tmp_path / "tower.obj"
    shutil.copy(src, path)
    plain = read(path)
    (tmp_path / "tower.obj.crs.json").write_text(json.dumps({"crs": "EPSG:3946", "offset": [1843000.5, 5175000, 170]}))
    geo = read(path)
    assert geo.crs.code == "EPSG:3946"
    np.testing.assert_allclose(geo.bounds, plain.bounds + np.tile([1843000.5, 5175000, 170], 2))
    assert geo.summary()["crs"] == "EPSG:3946"


def test_load_options_georeference_and_win_over_the_sidecar(tmp_path):
    path = tmp_path / "tower.obj"
    shutil.copy(shared_file("mesh/lyon_tour_part_dieu.obj"), path)
    plain = read(path)
    geo = read(path, LoadOptions(crs="EPSG:3946", offset=(1843000.5, 5175000.0, 170.0)))
    assert geo.crs.epsg == 3946
    np.testing.assert_allclose(geo.bounds, plain.bounds + np.tile([1843000.5, 5175000, 170], 2))
    flat = read(path, LoadOptions(offset=(10.0, 20.0)))  # (x, y): z unchanged
    np.testing.assert_allclose(flat.bounds, plain.bounds + np.tile([10, 20, 0], 2))
    (tmp_path / "tower.obj.crs.json").write_text(json.dumps({"crs": "EPSG:2154", "offset": [1, 2, 3]}))
    mixed = read(path, LoadOptions(crs="EPSG:3946"))  # the sidecar's offset, the option's CRS
    assert mixed.crs.epsg == 3946
    np.testing.assert_allclose(mixed.bounds, plain.bounds + np.tile([1, 2, 3], 2))
    with pytest.raises(ReaderError, match="offset"):
        read(path, LoadOptions(offset=(1.0, float("nan"), 0.0)))


def test_sidecar_prj(tmp_path):
    from pyproj import CRS as ProjCRS

    path = tmp_path / "tower.obj"
    shutil.copy(shared_file("mesh/lyon_tour_part_dieu.obj"), path)
    (tmp_path / "tower.prj").write_text(ProjCRS.from_epsg(28992).to_wkt())
    assert read(path).crs.epsg == 28992


def test_bad_sidecar_is_a_warning(tmp_path):
    path = tmp_path / "tower.obj"
    shutil.copy(shared_file("mesh/lyon_tour_part_dieu.obj"), path)
    (tmp_path / "tower.crs.json").write_text('{"crs": "EPSG:3946", "offset": [1, 2')
    model = read(path)
    assert model.crs.epsg is None
    assert any("tower.crs.json" in w and "invalid" in w for w in model.warnings)


# ------------------------------------------------------------------ other formats and bad input
_TRI = "v 0 0 0\nv 1 0 0\nv 0 1 0\n"


def _one_sentence(exc):
    text = str(exc)
    assert "\n" not in text and text.endswith(".")


def test_ply_stl_off_and_gltf_via_trimesh_export(tmp_path):
    box = trimesh.creation.box(extents=(2, 4, 6))
    box.apply_translation((10, 20, 30))
    for ext, fmt in ((".ply", "PLY"), (".stl", "STL"), (".off", "OFF"), (".glb", "glTF")):
        path = tmp_path / f"box{ext}"
        box.export(path)
        assert pick_reader(path).name == fmt
        model = read(path)
        assert model.format == fmt and model.mesh.n_triangles == 12 and len(model.objects) == 1
        expected = np.concatenate([box.bounds[0], box.bounds[1]])
        if fmt == "glTF":
            expected = np.array([10 - 1, -(30 + 3), 20 - 2, 10 + 1, -(30 - 3), 20 + 2])
        np.testing.assert_allclose(model.bounds, expected, atol=1e-5)
        area = model.mesh.triangle_areas().sum()
        assert area == pytest.approx(box.area, rel=1e-6)
    ascii_stl = tmp_path / "ascii.stl"
    ascii_stl.write_bytes(trimesh.exchange.stl.export_stl_ascii(box).encode())
    assert read(ascii_stl).mesh.n_triangles == 12


def test_gltf_scene_with_two_nodes_and_a_transform(tmp_path):
    scene = trimesh.Scene()
    scene.add_geometry(trimesh.creation.box(), node_name="left", geom_name="cube")
    scene.add_geometry(
        trimesh.creation.box(),
        node_name="right",
        geom_name="cube2",
        transform=trimesh.transformations.translation_matrix((100, 0, 0)),
    )
    path = tmp_path / "two.glb"
    scene.export(path)
    model = read(path)
    assert sorted(model.objects.ids) == ["left", "right"]
    right = model.objects.index["right"]
    xs = model.mesh.vertices[model.mesh.triangles[model.mesh.tri_object == right]][..., 0]
    assert xs.min() == pytest.approx(99.5) and xs.max() == pytest.approx(100.5)


def test_nan_vertex_is_a_counted_warning(tmp_path):
    path = tmp_path / "nan.obj"
    path.write_text(_TRI + "v nan 0 0\nf 1 2 3\nf 1 2 4\n")
    model = read(path)
    assert model.mesh.n_triangles == 1
    assert "1 triangles with NaN or infinite coordinates were dropped." in model.warnings


def test_out_of_range_index(tmp_path):
    obj = tmp_path / "bad.obj"
    obj.write_text(_TRI + "f 1 2 3\nf 1 2 9\n")
    with pytest.raises(ReaderError, match="refer to vertices it does not have") as err:
        read(obj)
    _one_sentence(err.value)
    ply = tmp_path / "bad.ply"
    ply.write_text(
        "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
        "element face 2\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n3 0 1 7\n"
    )
    model = read(ply)
    assert model.mesh.n_triangles == 1
    assert "1 triangles with vertex indices out of range were skipped." in model.warnings
    off = tmp_path / "bad.off"
    off.write_text("OFF\n3 2 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n3 0 1 5\n")
    try:
        model = read(off)
        assert model.mesh.n_triangles == 1 and any("out of range" in w for w in model.warnings)
    except ReaderError as exc:
        _one_sentence(exc)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("junk.obj", b"this is not a mesh at all\n"),
        ("letters.obj", (_TRI + "f 1 2 x\n").encode()),
        ("trunc.glb", b'glTF\x02\x00\x00\x00\xff\x00\x00\x00{"asset"'),
        ("zero.ply", b"ply\nformat ascii 1.0\nend_header\n"),
        ("empty.stl", b"solid x\nendsolid x\n"),
    ],
)
def test_garbage_is_one_sentence(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ReaderError) as err:
        read(path)
    _one_sentence(err.value)


def test_obj_sniffed_without_extension(tmp_path):
    path = tmp_path / "mesh.dat"
    path.write_text("# a mesh\n" + _TRI + "f 1 2 3\n")
    assert pick_reader(path).name == "OBJ"
    assert read(path).mesh.n_triangles == 1


# ---------------------------------------------------------------- textures
def textured_quad(folder, image: bool = True):
    """A 2 x 1 quad in z = 0, uv (x / 2, y), map_Kd ``tex/checker.png`` (2x2: left red, right blue)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "quad.mtl").write_text("newmtl checker\nKd 1 1 1\nmap_Kd tex/checker.png\n")
    (folder / "quad.obj").write_text(
        "mtllib quad.mtl\no quad\nv 0 0 0\nv 2 0 0\nv 2 1 0\nv 0 1 0\n"
        "vt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\nusemtl checker\nf 1/1 2/2 3/3\nf 1/1 3/3 4/4\n"
    )
    if image:
        (folder / "tex").mkdir(exist_ok=True)
        pixels = np.zeros((2, 2, 3), np.uint8)
        pixels[:, 0] = (255, 0, 0)
        pixels[:, 1] = (0, 0, 255)
        Image.fromarray(pixels).save(folder / "tex" / "checker.png")
    return folder / "quad.obj"


def test_obj_texture_uv_and_image_path(tmp_path):
    model = read(textured_quad(tmp_path))
    assert model.warnings == []
    mesh = model.mesh
    assert len(mesh.textures) == 1
    tex = mesh.textures[0]
    assert tex.exists and tex.path == str((tmp_path / "tex" / "checker.png").absolute())
    theme = mesh.appearances["default"]
    assert theme.texture.tolist() == [0, 0] and theme.uv is not None
    assert theme.uv.shape == (len(mesh.vertices), 2)
    assert np.isfinite(theme.uv).all() and (theme.uv >= 0).all() and (theme.uv <= 1).all()
    # every vertex keeps its own uv: u = x / 2, v = y
    np.testing.assert_allclose(theme.uv, mesh.vertices[:, :2] / [2.0, 1.0], atol=1e-6)
    assert mesh.materials[theme.material[0]].name == "checker"


def test_obj_missing_texture_image_is_one_warning(tmp_path):
    model = read(textured_quad(tmp_path, image=False))
    assert len(model.warnings) == 1 and "checker.png" in model.warnings[0]
    assert [t.exists for t in model.mesh.textures] == [False]
    assert model.mesh.textures[0].path.endswith("checker.png")
    assert model.mesh.appearances["default"].texture.tolist() == [0, 0]


def test_gltf_embedded_texture_goes_to_the_user_cache(tmp_path, monkeypatch):
    from PIL import Image

    from citytwin.io.mesh import texture_cache_dir

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    pixels = np.zeros((4, 4, 3), np.uint8)
    pixels[:, :2] = (255, 0, 0)
    pixels[:, 2:] = (0, 0, 255)
    image = Image.fromarray(pixels)
    quad = trimesh.Trimesh(
        vertices=[[0, 0, 0], [2, 0, 0], [2, 1, 0], [0, 1, 0]], faces=[[0, 1, 2], [0, 2, 3]], process=False
    )
    uv = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    quad.visual = trimesh.visual.TextureVisuals(uv=uv, image=image)
    other = quad.copy()
    other.apply_translation([5, 0, 0])
    scene = trimesh.Scene()
    scene.add_geometry(quad, node_name="a")
    scene.add_geometry(other, node_name="b")
    src = tmp_path / "data" / "quads.glb"
    src.parent.mkdir()
    src.write_bytes(scene.export(file_type="glb"))
    model = read(src)
    assert model.warnings == []
    mesh = model.mesh
    assert len(mesh.textures) == 1  # one image, one entry, one file
    path = texture_cache_dir() / (mesh.textures[0].path.rsplit("/", 1)[-1])
    assert mesh.textures[0].exists and mesh.textures[0].path == str(path)
    assert str(path).startswith(str(tmp_path / "cache")) and re.fullmatch(r"[0-9a-f]{40}\.png", path.name)
    np.testing.assert_array_equal(np.asarray(Image.open(path).convert("RGB")), pixels)
    assert sorted(p.name for p in src.parent.iterdir()) == ["quads.glb"]  # nothing beside the user's file
    theme = mesh.appearances["default"]
    assert (theme.texture == 0).all() and np.isfinite(theme.uv).all()
    assert (theme.uv >= -1e-6).all() and (theme.uv <= 1 + 1e-6).all()
    # u follows x within each quad (the Y-up → Z-up turn keeps x)
    local_x = mesh.vertices[:, 0] - np.where(mesh.vertices[:, 0] > 3, 5, 0)
    np.testing.assert_allclose(theme.uv[:, 0], local_x / 2, atol=1e-5)
    # read again: the same cached file, not a second one
    assert read(src).mesh.textures[0].path == str(path)
    assert len(list(texture_cache_dir().iterdir())) == 1


def test_lyon_glb_has_no_textures(loaded):
    model, scene, _ = loaded("lyon1_buildings_tile1.glb")
    has_images = any(
        getattr(g.visual, "uv", None) is not None and getattr(g.visual.material, "baseColorTexture", None) is not None
        for g in scene.geometry.values()
    )
    if has_images:  # pragma: no cover - the shared tile is untextured today
        assert model.mesh.textures and all(t.exists for t in model.mesh.textures)
    else:
        assert model.mesh.textures == [] and model.mesh.appearances["default"].uv is None
        assert (model.mesh.appearances["default"].texture == -1).all()


# ---------------------------------------------------------------- vertex colours
def coloured_glb(vertices, faces, colours, material: bool = False, normalized: bool = True) -> bytes:
    """A one-node GLB with ``COLOR_0`` stored as given (uint8, uint16 or float32; RGB or RGBA).

    trimesh only writes uint8 colours, so the accessor is written here by hand.
    """
    import struct

    blobs = [np.asarray(vertices, "<f4"), np.asarray(faces, "<u4"), np.ascontiguousarray(colours)]
    binary, views = b"", []
    for blob in blobs:
        data = blob.tobytes()
        views.append({"buffer": 0, "byteOffset": len(binary), "byteLength": len(data)})
        binary += data + b"\0" * (-len(data) % 4)
    colours = np.asarray(colours)
    colour_accessor = {
        "bufferView": 2,
        "componentType": {"uint8": 5121, "uint16": 5123, "float32": 5126}[colours.dtype.name],
        "count": len(colours),
        "type": f"VEC{colours.shape[1]}",
    }
    if colours.dtype.kind == "u":
        colour_accessor["normalized"] = normalized
    primitive = {"attributes": {"POSITION": 0, "COLOR_0": 2}, "indices": 1, "mode": 4}
    v = np.asarray(vertices, np.float32)
    doc = {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": "coloured"}],
        "meshes": [{"primitives": [primitive]}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": len(v), "type": "VEC3",
             "min": v.min(axis=0).tolist(), "max": v.max(axis=0).tolist()},
            {"bufferView": 1, "componentType": 5125, "count": int(np.size(faces)), "type": "SCALAR"},
            colour_accessor,
        ],
        "bufferViews": views,
        "buffers": [{"byteLength": len(binary)}],
    }  # fmt: skip
    if material:  # trimesh keeps COLOR_0 of a primitive with a material elsewhere (vertex attribute "color")
        primitive["material"] = 0
        doc["materials"] = [{"pbrMetallicRoughness": {"baseColorFactor": [1.0, 1.0, 1.0, 1.0]}}]
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    return (
        struct.pack("<4sII", b"glTF", 2, 12 + 8 + len(text) + 8 + len(binary))
        + struct.pack("<I4s", len(text), b"JSON")
        + text
        + struct.pack("<I4s", len(binary), b"BIN\0")
        + binary
    )


QUAD_V = np.array([[0, 0, 0], [2, 0, 0], [2, 1, 0], [0, 1, 0]], float)
QUAD_F = np.array([[0, 1, 2], [0, 2, 3]])
#: RGBA of the quad's corners as uint8
QUAD_RGBA = np.array([[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 128], [117, 4, 201, 255]], np.uint8)


def _corners(colours: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """What MeshData holds: one colour per triangle corner, in face order."""
    return np.asarray(colours)[np.asarray(faces).reshape(-1)]


def test_ply_vertex_colours_are_read_exactly(tmp_path):
    sphere = trimesh.creation.icosphere(subdivisions=2)
    rgba = np.random.default_rng(7).integers(0, 256, (len(sphere.vertices), 4), dtype=np.uint8)
    sphere.visual = trimesh.visual.ColorVisuals(sphere, vertex_colors=rgba)
    path = tmp_path / "sphere.ply"
    sphere.export(path)
    assert b"property uchar red" in path.read_bytes()[:400]
    model = read(path)
    mesh = model.mesh
    assert model.warnings == [] and mesh.vertex_colours is not None
    assert mesh.vertex_colours.dtype == np.uint8 and mesh.vertex_colours.shape == (len(mesh.vertices), 4)
    np.testing.assert_array_equal(mesh.vertex_colours, _corners(rgba, sphere.faces))
    np.testing.assert_allclose(mesh.vertices, _corners(sphere.vertices, sphere.faces), atol=1e-6)
    assert model.summary()["vertex_colours"] is True
    # an uncoloured mesh has none, and says nothing about them
    plain = tmp_path / "plain.ply"
    trimesh.creation.icosphere(subdivisions=1).export(plain)
    assert read(plain).mesh.vertex_colours is None and "vertex_colours" not in read(plain).summary()


def test_ply_face_colours_colour_their_corners(tmp_path):
    path = tmp_path / "faces.ply"
    path.write_text(
        "ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\n"
        "element face 2\nproperty list uchar int vertex_indices\nproperty uchar red\nproperty uchar green\n"
        "property uchar blue\nend_header\n0 0 0\n2 0 0\n2 1 0\n0 1 0\n3 0 1 2 250 10 20\n3 0 2 3 5 6 7\n"
    )
    mesh = read(path).mesh
    np.testing.assert_array_equal(mesh.vertex_colours, [[250, 10, 20, 255]] * 3 + [[5, 6, 7, 255]] * 3)


@pytest.mark.parametrize("material", [False, True])
@pytest.mark.parametrize("storage", ["uint8", "uint16", "float32", "float32-rgb"])
def test_gltf_color_0_in_every_storage_is_uint8(tmp_path, storage, material):
    if storage == "uint8":
        stored, expected = QUAD_RGBA, QUAD_RGBA
    elif storage == "uint16":
        # not multiples of 257: a plain cast to uint8 (keeping the low byte) would be wrong
        stored = np.array(
            [[65535, 0, 300, 65535], [1000, 65535, 0, 65535], [0, 128, 65535, 33000], [30000, 1027, 51657, 65535]],
            np.uint16,
        )
        expected = np.round(stored / 257.0).astype(np.uint8)
        assert not np.array_equal(expected, stored.astype(np.uint8))
    else:
        stored = (QUAD_RGBA / 255.0).astype(np.float32)
        expected = QUAD_RGBA.copy()
        if storage == "float32-rgb":
            stored = stored[:, :3]
            expected[:, 3] = 255
    path = tmp_path / "quad.glb"
    path.write_bytes(coloured_glb(QUAD_V, QUAD_F, stored, material=material))
    model = read(path)
    assert model.warnings == []
    np.testing.assert_array_equal(model.mesh.vertex_colours, _corners(expected, QUAD_F))
    if material:  # the white material is kept beside the colours
        assert model.mesh.materials and model.mesh.materials[0].diffuse == (1.0, 1.0, 1.0)


def test_gltf_exported_by_trimesh_keeps_its_colours(tmp_path):
    box = trimesh.creation.box()
    rgba = np.random.default_rng(3).integers(0, 256, (len(box.vertices), 4), dtype=np.uint8)
    box.visual = trimesh.visual.ColorVisuals(box, vertex_colors=rgba)
    path = tmp_path / "box.glb"
    box.export(path)
    mesh = read(path).mesh
    np.testing.assert_array_equal(mesh.vertex_colours, _corners(rgba, box.faces))


def test_obj_v_x_y_z_r_g_b(tmp_path):
    path = tmp_path / "coloured.obj"
    lines = [
        f"v {x:g} {y:g} {z:g} {r / 255:.8f} {g / 255:.8f} {b / 255:.8f}"
        for (x, y, z), (r, g, b, _) in zip(QUAD_V, QUAD_RGBA, strict=True)
    ]
    path.write_text("o quad\n" + "\n".join(lines) + "\nf 1 2 3\nf 1 3 4\n")
    model = read(path)
    expected = QUAD_RGBA.copy()
    expected[:, 3] = 255  # OBJ has no alpha
    np.testing.assert_array_equal(model.mesh.vertex_colours, _corners(expected, QUAD_F))
    assert model.objects.ids == ["quad"]


def test_real_mesh_coloured_by_height_round_trips_through_ply(tmp_path):
    """The Part-Dieu tower, coloured from its own coordinates, written as PLY and read back."""
    tower = trimesh.load(shared_file("mesh/lyon_tour_part_dieu.obj"), force="mesh", process=False)
    v = tower.vertices
    span = np.ptp(v, axis=0)
    unit = (v - v.min(axis=0)) / np.where(span > 0, span, 1.0)
    rgba = np.column_stack([np.round(255 * unit), np.full(len(v), 255)]).astype(np.uint8)
    assert len(np.unique(rgba, axis=0)) > 100  # many colours, so a misaligned corner shows
    tower.visual = trimesh.visual.ColorVisuals(tower, vertex_colors=rgba)
    path = tmp_path / "tower.ply"
    tower.export(path)
    model = read(path)
    mesh = model.mesh
    original = read(shared_file("mesh/lyon_tour_part_dieu.obj")).mesh
    assert original.vertex_colours is None
    assert mesh.n_triangles == original.n_triangles == len(tower.faces)
    np.testing.assert_array_equal(mesh.vertex_colours, _corners(rgba, tower.faces))
    # each corner's colour is still the colour of where it is (red, green, blue from x, y, z)
    where = np.round(255 * (mesh.vertices - v.min(axis=0)) / span)
    assert np.abs(mesh.vertex_colours[:, :3].astype(float) - where).max() <= 1


def test_colours_of_some_geometries_only(tmp_path):
    """A coloured node beside an uncoloured one with a material: the other takes its material colour."""
    coloured = trimesh.Trimesh(QUAD_V, QUAD_F, process=False)
    coloured.visual = trimesh.visual.ColorVisuals(coloured, vertex_colors=QUAD_RGBA)
    plain = trimesh.Trimesh(QUAD_V + [5, 0, 0], QUAD_F, process=False)
    plain.visual = trimesh.visual.TextureVisuals(
        material=trimesh.visual.material.PBRMaterial(baseColorFactor=[0.2, 0.4, 0.6, 1.0])
    )
    scene = trimesh.Scene()
    scene.add_geometry(coloured, node_name="coloured")
    scene.add_geometry(plain, node_name="plain")
    path = tmp_path / "two.glb"
    path.write_bytes(scene.export(file_type="glb"))
    model = read(path)
    mesh = model.mesh
    assert model.warnings == []
    by_object = {model.objects.ids[o]: mesh.vertex_colours[mesh.triangles[mesh.tri_object == o]].reshape(-1, 4)
                 for o in range(len(model.objects))}  # fmt: skip
    assert sorted(by_object) == ["coloured", "plain"]
    np.testing.assert_array_equal(np.unique(by_object["plain"], axis=0), [[51, 102, 153, 255]])
    np.testing.assert_array_equal(np.sort(np.unique(by_object["coloured"], axis=0), axis=0), np.sort(QUAD_RGBA, axis=0))
    # an OBJ where only some vertices have colours: trimesh drops them, the mesh reads without
    obj = tmp_path / "some.obj"
    obj.write_text("v 0 0 0 1 0 0\nv 1 0 0\nv 0 1 0 0 0 1\nf 1 2 3\n")
    some = read(obj)
    assert some.mesh.n_triangles == 1 and some.mesh.vertex_colours is None


def test_nan_and_mismatched_colours_do_not_crash(tmp_path):
    stored = (QUAD_RGBA / 255.0).astype(np.float32)
    stored[1, 0] = np.nan
    stored[3, 2] = np.inf
    path = tmp_path / "nan.glb"
    path.write_bytes(coloured_glb(QUAD_V, QUAD_F, stored))
    model = read(path)
    assert model.warnings == ["2 vertex colours that are not numbers were shown black."]
    expected = QUAD_RGBA.copy()
    expected[[1, 3]] = (0, 0, 0, 255)
    np.testing.assert_array_equal(model.mesh.vertex_colours, _corners(expected, QUAD_F))
    # COLOR_0 with fewer rows than vertices: ignored, the mesh reads without colours
    short = tmp_path / "short.glb"
    short.write_bytes(coloured_glb(QUAD_V, QUAD_F, QUAD_RGBA[:3]))
    model = read(short)
    assert model.mesh.n_triangles == 2 and model.mesh.vertex_colours is None


def test_colour_arrays_that_do_not_fit_are_one_warning():
    from citytwin.io.mesh import _corner_colours

    geom = trimesh.Trimesh(QUAD_V, QUAD_F, process=False)
    geom.vertex_attributes["color"] = QUAD_RGBA[:3]
    problems: dict[str, int] = {}
    assert _corner_colours(geom, np.arange(2), True, problems) is None
    assert problems == {"colour arrays that do not match their vertices or faces were ignored": 1}
    geom.vertex_attributes["color"] = np.zeros(4)
    assert _corner_colours(geom, np.arange(2), True, problems) is None
    assert problems["colour arrays that are not RGB or RGBA were ignored"] == 1
