"""Write a city model's triangles as PLY, OBJ or glTF (GLB), atomically, keeping georeferencing.

:func:`save_mesh` writes the triangles of a :class:`CityModel` (a DTM, an
imported mesh, a city model's surfaces) to a plain mesh file:

* PLY: binary little-endian, vertices as ``double``, so projected coordinates
  keep full precision; one mesh;
* OBJ: text (via trimesh), vertices with 8 decimals; one ``o`` object per
  top-level city object, named by its id;
* glTF binary (``.glb``, via trimesh): one mesh node per top-level city object,
  Z-up turned to glTF's Y-up. glTF stores ``float32``, which cannot hold
  projected coordinates to the millimetre, so vertices are written relative to
  an offset (by default the model's lower corner rounded to the metre).

Vertex colours (:attr:`MeshData.vertex_colours <citytwin.model.geometry.MeshData.vertex_colours>`)
are written along: PLY ``uchar red/green/blue/alpha``, OBJ ``v x y z r g b`` (no alpha),
glTF ``COLOR_0`` (normalized unsigned bytes).

Whenever there is an offset or the model has a CRS, a sidecar
``<file>.crs.json`` holds ``{"crs": "EPSG:…", "offset": [x, y, z]}``, which
:mod:`citytwin.io.mesh` reads back (adding the offset), so a saved mesh opens
where it was. Files are written to a temporary file in the same folder and moved
into place with :func:`os.replace`, so a crash never leaves half a file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from citytwin.errors import CityTwinError
from citytwin.io.atomic import write_atomic
from citytwin.model.citymodel import CityModel

#: Extension → format name.
FORMATS = {".ply": "PLY", ".obj": "OBJ", ".glb": "GLB", ".gltf": "GLB"}
#: glTF's +Y up from citytwin's +Z up: (x, y, z) → (x, z, -y) (the inverse of the reader's turn).
Z_UP_TO_Y_UP = np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]])


def save_mesh(
    model: CityModel,
    path: str | Path,
    format: str | None = None,  # noqa: A002
    offset: Sequence[float] | str | None = "auto",
) -> Path:
    """Write the model's triangles to ``path``.

    Parameters
    ----------
    model
        The model; every triangle of its mesh is written.
    path
        The file to write (replaced atomically if it exists).
    format
        ``"PLY"``, ``"OBJ"`` or ``"GLB"``; ``None`` picks it from the extension
        (``.gltf`` is written as a binary glTF too).
    offset
        Subtracted from every vertex and recorded in the sidecar. ``"auto"``: for
        glTF the model's lower corner rounded down to the metre, none for PLY and
        OBJ (they keep float64); ``None``: no offset; or ``[x, y, z]``.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    citytwin.errors.CityTwinError
        For an unknown format, a model without triangles, or a file that cannot be written.
    """
    path = Path(path)
    fmt = (format or FORMATS.get(path.suffix.lower(), "")).upper()
    if fmt == "GLTF":
        fmt = "GLB"
    if fmt not in ("PLY", "OBJ", "GLB"):
        raise CityTwinError(f"Cannot save a mesh as {path.suffix or format!r}: use .ply, .obj or .glb.")
    mesh = model.mesh
    if mesh.n_triangles == 0:
        raise CityTwinError("The model has no triangles to save.")
    if isinstance(offset, str):
        if offset != "auto":
            raise ValueError("offset must be 'auto', None or [x, y, z]")
        shift = np.floor(mesh.vertices[mesh.triangles.ravel()].min(axis=0)) if fmt == "GLB" else np.zeros(3)
    elif offset is None:
        shift = np.zeros(3)
    else:
        shift = np.asarray(offset, dtype=np.float64).reshape(-1)
        if shift.size == 2:
            shift = np.append(shift, 0.0)
        if shift.size != 3 or not np.isfinite(shift).all():
            raise ValueError("offset must be [x, y, z]")

    groups = _groups(model)
    colours = mesh.vertex_colours
    if colours is not None and np.shape(colours) != (len(mesh.vertices), 4):
        colours = None  # not one RGBA per vertex: the geometry is written without them
    if fmt == "PLY":
        used, faces = _compact(mesh.triangles)
        data = _ply_bytes(mesh.vertices[used] - shift, faces, None if colours is None else colours[used])
    else:
        data = _trimesh_bytes(mesh.vertices, mesh.triangles, groups, shift, fmt, colours)

    sidecar = path.with_name(path.name + ".crs.json")
    doc = {}
    if model.crs.epsg is not None or model.crs.name:
        doc["crs"] = model.crs.code or model.crs.name
    if shift.any():
        doc["offset"] = [float(v) for v in shift]
    try:
        write_atomic(path, data)
        if doc:
            write_atomic(sidecar, (json.dumps(doc, indent=1) + "\n").encode())
        elif sidecar.exists():
            sidecar.unlink()  # a stale one would move the new mesh
    except OSError as exc:
        raise CityTwinError(f"Cannot write {path.name} ({exc.strerror or exc}).") from exc
    return path


def _groups(model: CityModel) -> list[tuple[str, np.ndarray]]:
    """``(name, triangle indices)`` per top-level city object, in object order."""
    mesh = model.mesh
    objects = model.objects
    if len(objects) == 0:
        return [("mesh", np.arange(mesh.n_triangles))]
    root = objects.roots[mesh.tri_object]
    order = np.argsort(root, kind="stable")
    roots, starts = np.unique(root[order], return_index=True)
    ends = np.append(starts[1:], len(order))
    return [(objects.ids[r] or f"object {r}", order[a:b]) for r, a, b in zip(roots.tolist(), starts, ends, strict=True)]


def _compact(triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The indices of the vertices the triangles use, and the triangles renumbered to them."""
    used, inverse = np.unique(triangles.ravel(), return_inverse=True)
    return used, inverse.reshape(-1, 3).astype(np.int32)


def _ply_bytes(vertices: np.ndarray, faces: np.ndarray, colours: np.ndarray | None = None) -> bytes:
    """Binary little-endian PLY with ``double`` vertices and, when given, ``uchar`` RGBA per vertex."""
    fields = [("xyz", "<f8", (3,))]
    props = "property double x\nproperty double y\nproperty double z\n"
    if colours is not None:
        fields.append(("rgba", "u1", (4,)))
        props += "property uchar red\nproperty uchar green\nproperty uchar blue\nproperty uchar alpha\n"
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment written by citytwin\n"
        f"element vertex {len(vertices)}\n{props}"
        f"element face {len(faces)}\nproperty list uchar int vertex_indices\nend_header\n"
    ).encode("ascii")
    vertex_rec = np.empty(len(vertices), dtype=fields)
    vertex_rec["xyz"] = vertices
    if colours is not None:
        vertex_rec["rgba"] = colours
    face_rec = np.empty(len(faces), dtype=[("n", "u1"), ("v", "<i4", (3,))])
    face_rec["n"] = 3
    face_rec["v"] = faces
    return header + vertex_rec.tobytes() + face_rec.tobytes()


def _trimesh_bytes(
    vertices: np.ndarray,
    triangles: np.ndarray,
    groups: list[tuple[str, np.ndarray]],
    shift: np.ndarray,
    fmt: str,
    colours: np.ndarray | None = None,
) -> bytes:
    try:
        import trimesh
    except ImportError as exc:  # pragma: no cover - trimesh is a dependency
        raise CityTwinError("Saving OBJ and glTF needs the trimesh package (pip install trimesh).") from exc
    scene = trimesh.Scene()
    for name, tris in groups:
        used, f = _compact(triangles[tris])
        v = vertices[used] - shift
        if fmt == "GLB":
            v = v @ Z_UP_TO_Y_UP.T
        geom = trimesh.Trimesh(
            vertices=v, faces=f, vertex_colors=None if colours is None else colours[used], process=False
        )
        scene.add_geometry(geom, node_name=name, geom_name=name)
    if fmt == "OBJ":
        text = trimesh.exchange.obj.export_obj(scene, include_normals=False, include_texture=False, digits=8)
        return text.encode("utf-8") if isinstance(text, str) else text
    return trimesh.exchange.gltf.export_glb(scene, include_normals=False)
