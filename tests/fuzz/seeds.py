"""The inputs the fuzzer starts from: small real files of every reader family, and files made from them.

Real files are read from the shared data folder (never copied into the
repository); derived files (CityJSONSeq, LAZ, PLY, STL, OFF, glTF) are made in
memory from them at start-up, deterministically.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from citytwin.io.options import LoadOptions
from tests.fuzz import mutate as m


@dataclass(frozen=True)
class Seed:
    """One starting input: its name, bytes, the suffix its mutants are saved with, and how to read them."""

    name: str
    data: bytes
    suffix: str
    mutators: tuple[m.Mutator, ...]
    options: LoadOptions = field(default_factory=LoadOptions)


CITYGML = (
    "citygml/FZK-Haus-LoD0-KIT-IAI-KHH-B36-V1.gml",
    "citygml/Building_LOD1-EPSG25832_v2.gml",
    "citygml/Building_LOD2-EPSG25832_v2.gml",
    "citygml/b1_lod2_cs_w_sem.gml",
    "citygml/533925_tran_6697_op.gml",
    "citygml/Road_over_Bridge_CityGML3.0_LOD2_with_CityObjectRelations.gml",
    "citygml/lyon_1er_small_house/LYON_1ER_BATI_2015_small_house.gml",
)
CITYJSON = (
    "cityjson/dummy.json",
    "cityjson/rotterdam/rotterdam_one.json",
    "cityjson/rotterdam/rotterdam_subset.json",
    "cityjson/citygml4j_lod2_buildings_v2.json",
)
LIDAR = (
    "lidar/1.0_0.las",
    "lidar/1.2_2.las",
    "lidar/simple.las",
    "lidar/simple1_1.las",
    "lidar/simple1_3.las",
    "lidar/test1_4.las",
    "lidar/append-bug.laz",
)
COPC = "lidar/lone-star.copc.laz"
MESH = "mesh/lyon_tour_part_dieu.obj"

FAMILIES = ("citygml", "cityjson", "lidar", "mesh")


def _read(shared: Path, relative: str) -> bytes:
    path = shared / relative
    if not path.is_file():
        raise FileNotFoundError(
            f"Fuzz seed {relative!r} is missing: the fuzzer reads real data from {shared} "
            "(set CITYTWIN_SHARED_DATA to point elsewhere)."
        )
    return path.read_bytes()


def _sample_cut(n_objects: int = 12) -> bytes:
    """The first top-level objects of the bundled sample district (with their children), as CityJSON."""
    from citytwin.sample import sample_path

    doc = json.loads(sample_path().read_bytes())
    objects = doc["CityObjects"]
    keep: dict = {}
    for oid, co in objects.items():
        if co.get("parents"):
            continue
        keep[oid] = co
        for child in co.get("children", []):
            keep[child] = objects[child]
        if len(keep) >= n_objects:
            break
    doc["CityObjects"] = keep
    return json.dumps(doc).encode()


def _seq(doc_bytes: bytes) -> bytes:
    from tests.cityjson_seq import split_into_features

    header, features = split_into_features(json.loads(doc_bytes))
    return b"\n".join(json.dumps(x).encode() for x in [header, *features]) + b"\n"


def _laz(las: bytes) -> bytes:
    import laspy

    data = laspy.read(io.BytesIO(las))
    out = io.BytesIO()
    data.write(out, do_compress=True)
    return out.getvalue()


def _meshes(obj: bytes) -> list[tuple[str, bytes, str]]:
    import trimesh

    mesh = trimesh.load(io.BytesIO(obj), file_type="obj", force="mesh", process=False)
    mesh = mesh.submesh([list(range(min(len(mesh.faces), 1500)))], append=True)
    out = [
        ("ply-binary", mesh.export(file_type="ply", encoding="binary"), ".ply"),
        ("ply-ascii", mesh.export(file_type="ply", encoding="ascii"), ".ply"),
        ("stl-binary", mesh.export(file_type="stl"), ".stl"),
        ("stl-ascii", mesh.export(file_type="stl_ascii").encode(), ".stl"),
        ("off", mesh.export(file_type="off").encode(), ".off"),
        ("glb", mesh.export(file_type="glb"), ".glb"),
    ]
    gltf = mesh.export(file_type="gltf", embed_buffers=True)
    out.append(("gltf-embedded", gltf["model.gltf"], ".gltf"))
    return [(n, d if isinstance(d, bytes) else bytes(d), s) for n, d, s in out]


def seeds(family: str, shared: Path) -> list[Seed]:
    """The seeds of one reader family.

    Raises
    ------
    FileNotFoundError
        If a real file is missing from ``shared`` (with a sentence saying where it was looked for).
    """
    if family == "citygml":
        return [Seed(Path(r).name, _read(shared, r), ".gml", m.XML) for r in CITYGML]
    if family == "cityjson":
        docs = [(Path(r).name, _read(shared, r)) for r in CITYJSON]
        docs.append(("sample-district-cut", _sample_cut()))
        out = [Seed(name, data, ".json", m.JSON) for name, data in docs]
        out += [Seed(name + "l", _seq(data), ".city.jsonl", m.JSON) for name, data in docs if name != "dummy.json"]
        return out
    if family == "lidar":
        files = [(Path(r).name, _read(shared, r)) for r in LIDAR]
        out = [Seed(name, data, Path(name).suffix, m.LAS) for name, data in files]
        out.append(Seed("simple.las→laz", _laz(_read(shared, "lidar/simple.las")), ".laz", m.LAS))
        out.append(Seed("test1_4.las→laz", _laz(_read(shared, "lidar/test1_4.las")), ".laz", m.LAS))
        small_budget = LoadOptions(point_budget=20_000)
        out.append(Seed("simple.las (budget)", files[2][1], ".las", m.LAS, small_budget))
        copc = _read(shared, COPC)
        out.append(Seed("lone-star.copc.laz", copc, ".copc.laz", m.COPC, LoadOptions(point_budget=2_000)))
        return out
    if family == "mesh":
        obj = _read(shared, MESH)
        out = [Seed("lyon_tour_part_dieu.obj", obj, ".obj", m.TEXT)]
        for name, data, suffix in _meshes(obj):
            mutators = m.BYTES if name in ("ply-binary", "stl-binary", "glb") else m.TEXT
            if name == "gltf-embedded":
                mutators = m.JSON
            out.append(Seed(name, data, suffix, mutators))
        return out
    raise ValueError(f"unknown fuzz family {family!r} (one of {', '.join(FAMILIES)})")
