"""A city model read from one file: objects, geometry, CRS and what went wrong."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from citytwin.model.cityobjects import CityObjects
from citytwin.model.crs import CRS, reproject
from citytwin.model.geometry import MeshData
from citytwin.model.summary import base_summary


@dataclass(frozen=True, eq=False)
class SourceDocument:
    """The bytes of the file a model was read from, kept for a lossless write.

    Readers keep a reference to the bytes they read anyway, so reading costs
    nothing more; a writer parses them again only when it writes. For CityJSON
    (:mod:`citytwin.io.cityjson_export`) that gives every city object's JSON,
    the vertices, metadata, transform, extensions, appearance and geometry
    templates. Keeping the bytes, not the path, lets a model be saved over its
    own file (and again) without reading back what it wrote.

    Attributes
    ----------
    kind
        The format read. ``"CityJSON"``: ``chunks`` is the one document;
        ``"CityJSONSeq"``: the header line, then the feature lines as read (blank
        and unreadable lines included; the writer skips them as the reader did);
        ``"CityGML"``: as :mod:`citytwin.io.citygml` keeps them.
    chunks
        The bytes.
    """

    kind: str
    chunks: tuple[bytes, ...]

    @property
    def nbytes(self) -> int:
        """Memory the kept bytes take."""
        return sum(map(len, self.chunks))


@dataclass
class CityModel:
    """Everything a reader returns for a city-model file.

    Attributes
    ----------
    format
        ``"CityGML"``, ``"CityJSON"``, …
    version
        The format version as the file declares it (``"2.0"``).
    objects
        The city-object table.
    mesh
        All surface geometry, every LoD, with per-polygon object index.
    crs
        The source CRS.
    source
        The file read, if any.
    metadata
        Format-specific metadata (CityJSON ``metadata``, gml:name …).
    warnings
        One sentence per kind of problem skipped, with counts.
    source_document
        What a lossless write needs of the source file (None where a reader keeps nothing).
    """

    format: str
    version: str
    objects: CityObjects
    mesh: MeshData
    crs: CRS = field(default_factory=CRS)
    source: Path | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    source_document: SourceDocument | None = field(default=None, repr=False, compare=False)

    @property
    def bounds(self) -> np.ndarray:
        """``[xmin, ymin, zmin, xmax, ymax, zmax]`` in the source CRS."""
        return self.mesh.bounds

    @property
    def lods(self) -> list[str]:
        """LoDs present in the geometry."""
        return self.mesh.lods

    def in_crs(self, target: CRS) -> CityModel:
        """This model with its vertices reprojected to ``target`` (everything else shared).

        Used to draw layers of different CRSs in one scene; the source model
        keeps its own coordinates.
        """
        if target.epsg is None or target.epsg == self.crs.epsg:
            return self
        mesh = replace(self.mesh, vertices=reproject(self.mesh.vertices, self.crs, target))
        return replace(self, mesh=mesh, crs=target)

    def object_lods(self) -> dict[int, list[str]]:
        """For each object with geometry, the LoDs it has (its own polygons only)."""
        from citytwin.model.semantics import lod_name

        pairs = np.unique(np.stack([self.mesh.poly_object.astype(np.int64), self.mesh.poly_lod]), axis=1)
        out: dict[int, list[str]] = {}
        for obj, lod in pairs.T.tolist():
            out.setdefault(obj, []).append(lod_name(lod))
        return out

    def summary(self) -> dict[str, Any]:
        """The facts ``citytwin info --json`` prints (``"vertex_colours": true`` for a coloured mesh)."""
        out = base_summary(self.format, self.version, self.crs, self.bounds, self.warnings)
        out.update(
            objects=self.objects.type_counts(),
            lods=self.lods,
            polygons=self.mesh.n_polygons,
            triangles=self.mesh.n_triangles,
            attributes=self.objects.attribute_names(),
        )
        if self.mesh.vertex_colours is not None:
            out["vertex_colours"] = True
        return out
