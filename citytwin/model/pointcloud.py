"""Point clouds (LAS, LAZ, COPC) as flat numpy arrays, and the layer that shows one.

A :class:`PointCloud` holds the points a reader kept (all of them, or a uniform
subset when the file has more points than the load's point budget): float64
source coordinates and the per-point attributes a viewer colours by, given as
arrays or decoded on first use from the undecoded LAS records. Facts about the
whole file (point count, class counts, bounds) are kept separately, so a
subsampled cloud still reports the file truthfully.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from psygnal import evented

from citytwin.model.crs import CRS, reproject
from citytwin.model.layers import Layer
from citytwin.model.point_records import PointRecords
from citytwin.model.summary import base_summary

#: ASPRS standard point classes (LAS 1.4 R15, table 17); 64–255 are user-defined.
ASPRS_CLASS_NAMES: dict[int, str] = {
    0: "Created, never classified",
    1: "Unclassified",
    2: "Ground",
    3: "Low vegetation",
    4: "Medium vegetation",
    5: "High vegetation",
    6: "Building",
    7: "Low point (noise)",
    8: "Model key-point",  # reserved in LAS 1.4; key-point in LAS 1.0–1.3
    9: "Water",
    10: "Rail",
    11: "Road surface",
    12: "Overlap",  # reserved in LAS 1.4; overlap points in LAS 1.0–1.3
    13: "Wire guard (shield)",
    14: "Wire conductor (phase)",
    15: "Transmission tower",
    16: "Wire-structure connector (insulator)",
    17: "Bridge deck",
    18: "High noise",
    19: "Overhead structure",
    20: "Ignored ground",
    21: "Snow",
    22: "Temporal exclusion",
}


def class_name(code: int) -> str:
    """The ASPRS name of a class code (``"Reserved 30"``, ``"User class 65"`` for the rest)."""
    code = int(code)
    if code in ASPRS_CLASS_NAMES:
        return ASPRS_CLASS_NAMES[code]
    return f"User class {code}" if code >= 64 else f"Reserved {code}"


def _palette() -> np.ndarray:
    pal = np.empty((256, 3), np.uint8)
    # Classes without a colour of their own: a neutral mid grey.
    pal[:] = (150, 150, 150)
    pal[0] = (190, 190, 190)  # never classified
    pal[1] = (170, 170, 170)  # unclassified
    pal[2] = (170, 110, 40)  # ground: brown
    pal[3] = (160, 220, 110)  # low vegetation: light green
    pal[4] = (70, 170, 60)  # medium vegetation
    pal[5] = (20, 110, 30)  # high vegetation: dark green
    pal[6] = (230, 70, 60)  # building: red
    pal[7] = (255, 0, 255)  # low point (noise): magenta
    pal[8] = (255, 255, 0)  # key-point
    pal[9] = (40, 110, 230)  # water: blue
    pal[10] = (110, 80, 60)  # rail
    pal[11] = (90, 90, 100)  # road surface: asphalt
    pal[12] = (255, 220, 0)  # overlap
    pal[13] = (250, 200, 120)  # wire guard
    pal[14] = (250, 160, 40)  # wire conductor
    pal[15] = (200, 120, 200)  # transmission tower
    pal[16] = (180, 140, 230)  # insulator
    pal[17] = (240, 200, 90)  # bridge deck
    pal[18] = (255, 60, 200)  # high noise
    pal[19] = (120, 200, 210)  # overhead structure
    pal[20] = (200, 160, 120)  # ignored ground
    pal[21] = (245, 250, 255)  # snow
    pal[22] = (100, 100, 100)  # temporal exclusion
    pal.setflags(write=False)
    return pal


#: ``(256, 3)`` uint8 RGB for every class code, indexed by the code.
CLASSIFICATION_PALETTE: np.ndarray = _palette()


class PointCloud:
    """Points read from one file.

    The per-point arrays are given directly, or decoded on first use from
    undecoded LAS ``records`` (see :mod:`citytwin.model.point_records`): a reader
    keeps the records as read and a viewer decodes only what it draws. An array
    given directly wins over the records (a reprojected cloud gives its ``xyz``
    and shares the records for the attributes).

    Parameters
    ----------
    xyz
        ``(N, 3)`` float64 in the source CRS (scale and offset applied in float64).
        May be left out when ``records`` are given.
    classification, intensity, return_number, number_of_returns, gps_time
        Optional ``(N,)`` per-point arrays (uint8, uint16, uint8, uint8, float64).
    rgb
        Optional ``(N, 3)`` uint8 colour (16-bit source colour scaled down).
    records
        Undecoded point records the missing arrays are decoded from, when asked for.
    crs
        The source CRS.
    format
        ``"LAS"``, ``"LAZ"`` or ``"COPC"``.
    version
        The LAS version (``"1.4"``).
    point_format
        The LAS point data record format (0–10).
    points_in_file
        Points the file holds (N may be smaller: see :attr:`subsampled`).
    class_counts
        ASPRS class code → number of points, over the whole file (see
        :attr:`class_counts_complete`).
    class_counts_complete
        False when :attr:`class_counts` count only the loaded points, not the
        whole file (a COPC file opened from its coarse octree levels: counting
        every class would mean decompressing every point).
    file_bounds
        ``[xmin, ymin, zmin, xmax, ymax, zmax]`` of the whole file (the header's when
        it agrees with the points).
    warnings
        One sentence per kind of problem, with counts.
    source
        The file read, if any.
    metadata
        Format-specific facts (software, creation date, scales …).
    """

    def __init__(
        self,
        xyz: np.ndarray | None = None,
        classification: np.ndarray | None = None,
        intensity: np.ndarray | None = None,
        rgb: np.ndarray | None = None,
        return_number: np.ndarray | None = None,
        number_of_returns: np.ndarray | None = None,
        gps_time: np.ndarray | None = None,
        *,
        records: PointRecords | None = None,
        crs: CRS | None = None,
        format: str = "LAS",  # noqa: A002  (the attribute name every reader and test uses)
        version: str = "1.4",
        point_format: int = 0,
        points_in_file: int | None = None,
        class_counts: dict[int, int] | None = None,
        class_counts_complete: bool = True,
        file_bounds: np.ndarray | None = None,
        warnings: list[str] | None = None,
        source: Path | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if xyz is None and records is None:
            raise ValueError("a point cloud needs xyz or records")
        self.records = records
        self._arrays: dict[str, np.ndarray] = {}
        if xyz is not None:
            self._arrays["xyz"] = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
        n = len(self._arrays["xyz"]) if xyz is not None else len(records)  # type: ignore[arg-type]
        if records is not None and len(records) != n:
            raise ValueError(f"records hold {len(records)} points for {n} coordinates")
        self._n = n
        given = dict(
            classification=classification,
            intensity=intensity,
            rgb=rgb,
            return_number=return_number,
            number_of_returns=number_of_returns,
            gps_time=gps_time,
        )
        for name, arr in given.items():
            if arr is None:
                continue
            arr = np.asarray(arr)
            if name == "rgb" and arr.shape != (n, 3):
                raise ValueError(f"rgb has shape {arr.shape} for {n} points")
            if len(arr) != n:
                raise ValueError(f"{name} has {len(arr)} values for {n} points")
            self._arrays[name] = arr
        self.crs = crs if crs is not None else CRS()
        self.format = format
        self.version = version
        self.point_format = point_format
        self.points_in_file = n if points_in_file is None else points_in_file
        self.class_counts = dict(class_counts or {})
        self.class_counts_complete = class_counts_complete
        self.file_bounds = file_bounds
        self.warnings = list(warnings or [])
        self.source = source
        self.metadata = dict(metadata or {})
        if not self.class_counts and n and self.has("classification"):
            counts = np.bincount(self.classification, minlength=1)
            self.class_counts = {int(c): int(counts[c]) for c in np.flatnonzero(counts)}

    def __repr__(self) -> str:
        return f"PointCloud({self.format} {self.version}, {self._n:,} points, {self.crs})"

    # ----------------------------------------------------------------- arrays
    def has(self, name: str) -> bool:
        """Whether the cloud has attribute ``name`` (given or in its records), without decoding it."""
        return name in self._arrays or (self.records is not None and self.records.has(name))

    def _array(self, name: str) -> np.ndarray | None:
        arr = self._arrays.get(name)
        records = self.records
        if arr is None and records is not None and records.has(name):
            # Decoded once per records, so a reprojected copy shares what either decodes.
            arr = records.decoded.get(name)
            if arr is None:
                if name == "rgb":
                    arr = records.colours()
                else:
                    arr = records.attribute(name)
                records.decoded[name] = arr
        return arr

    def lookup(self, name: str, table: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``table[attribute]`` per point (colours by class …), without decoding a byte attribute from the records.

        Parameters
        ----------
        name
            A per-point attribute the cloud has (``"classification"`` …).
        table
            ``(K, ...)`` values indexed by the attribute's values.
        out
            Where to write the ``(N, ...)`` result.
        """
        arr = self._arrays.get(name)
        records = self.records
        if arr is None and records is not None and records.has(name) and name not in records.decoded:
            return records.lookup(name, table, out)
        arr = self._array(name)
        if arr is None:
            raise KeyError(name)
        return np.take(table, arr, axis=0, out=out)

    def _xyz_if_decoded(self) -> np.ndarray | None:
        arr = self._arrays.get("xyz")
        if arr is None and self.records is not None:
            arr = self.records.decoded.get("xyz")
        return arr

    @property
    def xyz(self) -> np.ndarray:
        """``(N, 3)`` float64 source coordinates (decoded once, on first use, from the records)."""
        arr = self._xyz_if_decoded()
        if arr is None:
            assert self.records is not None
            arr = self.records.decoded["xyz"] = self.records.xyz()
        return arr

    @property
    def classification(self) -> np.ndarray | None:
        """``(N,)`` uint8 ASPRS class codes, or ``None``."""
        return self._array("classification")

    @property
    def intensity(self) -> np.ndarray | None:
        """``(N,)`` uint16 intensity, or ``None``."""
        return self._array("intensity")

    @property
    def rgb(self) -> np.ndarray | None:
        """``(N, 3)`` uint8 colour, or ``None``."""
        return self._array("rgb")

    @property
    def return_number(self) -> np.ndarray | None:
        """``(N,)`` uint8 return number, or ``None``."""
        return self._array("return_number")

    @property
    def number_of_returns(self) -> np.ndarray | None:
        """``(N,)`` uint8 number of returns of the pulse, or ``None``."""
        return self._array("number_of_returns")

    @property
    def gps_time(self) -> np.ndarray | None:
        """``(N,)`` float64 GPS time, or ``None``."""
        return self._array("gps_time")

    def point(self, i: int) -> np.ndarray:
        """``(3,)`` float64 source coordinates of point ``i``, exactly as read (nothing else decoded)."""
        xyz = self._xyz_if_decoded()
        if xyz is not None:
            return np.array(xyz[i], np.float64)
        assert self.records is not None
        return self.records.xyz(np.array([int(i)]))[0]

    def points_xyz(self, index: np.ndarray) -> np.ndarray:
        """``(M, 3)`` float64 source coordinates of the points ``index`` (indices or a bool mask)."""
        xyz = self._xyz_if_decoded()
        if xyz is not None:
            return xyz[index]
        assert self.records is not None
        return self.records.xyz(index)

    def local_points(self, origin: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``(N, 3)`` float32 coordinates relative to ``origin`` (difference taken in float64), for drawing.

        Written into ``out`` (``(N, 3)`` float32) when given.
        """
        origin = np.asarray(origin, np.float64).reshape(3)
        xyz = self._xyz_if_decoded()
        if xyz is None:
            assert self.records is not None
            return self.records.local_float32(origin, out)
        if out is None:
            out = np.empty((self._n, 3), np.float32)
        for k in range(3):  # per column straight into float32: no float64 temporary of the cloud
            np.subtract(xyz[:, k], origin[k], out=out[:, k], casting="same_kind")
        return out

    def with_xyz(self, xyz: np.ndarray, crs: CRS) -> PointCloud:
        """A copy with other coordinates in ``crs`` (attributes shared, file bounds dropped)."""
        other = copy.copy(self)
        other._arrays = {**self._arrays, "xyz": np.asarray(xyz, np.float64).reshape(-1, 3)}
        other.crs = crs
        other.file_bounds = None
        return other

    # ----------------------------------------------------------------- sizes
    @property
    def n_points(self) -> int:
        """Points held (loaded)."""
        return self._n

    def __len__(self) -> int:
        return self._n

    @property
    def subsampled(self) -> bool:
        """Whether fewer points were kept than the file holds (point budget)."""
        return self.n_points < (self.points_in_file or 0)

    @property
    def has_rgb(self) -> bool:
        return self.has("rgb")

    # ----------------------------------------------------------------- queries
    @property
    def bounds(self) -> np.ndarray:
        """``[xmin, ymin, zmin, xmax, ymax, zmax]`` of the file (NaN when empty)."""
        if self.file_bounds is not None:
            return np.asarray(self.file_bounds, dtype=np.float64)
        if self.n_points == 0:
            return np.full(6, np.nan)
        return np.concatenate([self.xyz.min(axis=0), self.xyz.max(axis=0)])

    @property
    def classes(self) -> list[int]:
        """Class codes present in the file, ascending."""
        return sorted(c for c, n in self.class_counts.items() if n)

    def class_mask(self, hidden: frozenset[int] | set[int]) -> np.ndarray:
        """``(N,)`` bool, true for the loaded points whose class is not hidden."""
        if not hidden or not self.has("classification"):
            return np.ones(self.n_points, bool)
        table = np.ones(256, bool)
        table[np.fromiter((int(c) for c in hidden if 0 <= int(c) < 256), dtype=np.int64)] = False
        return table[self.classification]

    def classification_colours(self) -> np.ndarray:
        """``(N, 3)`` uint8 colour of each loaded point from :data:`CLASSIFICATION_PALETTE`."""
        if not self.has("classification"):
            return np.broadcast_to(CLASSIFICATION_PALETTE[1], (self.n_points, 3)).copy()
        return self.lookup("classification", CLASSIFICATION_PALETTE)

    def default_colour_mode(self) -> str:
        """The colouring that shows this cloud best: RGB, else classes, else elevation."""
        if self.has("rgb"):
            return "rgb"
        if len([c for c in self.classes if c not in (0, 1)]) > 0:
            return "classification"
        return "elevation"

    def in_crs(self, target: CRS) -> PointCloud:
        """This cloud with its points reprojected to ``target`` (attributes shared; heights pass through).

        Used to draw a cloud with layers of another CRS; the source cloud keeps its coordinates.
        """
        if target.epsg is None or target.epsg == self.crs.epsg:
            return self
        return self.with_xyz(reproject(self.xyz, self.crs, target), target)

    def summary(self) -> dict[str, Any]:
        """The facts ``citytwin info --json`` prints (the same keys as a city model's, plus points)."""
        out = base_summary(self.format, self.version, self.crs, self.bounds, self.warnings)
        out.update(
            {
                "points": int(self.points_in_file or 0),
                "points_loaded": self.n_points,
                "point_format": self.point_format,
                "classes": {str(c): int(n) for c, n in sorted(self.class_counts.items()) if n},
                "classes_complete": bool(self.class_counts_complete),
                "rgb": self.has_rgb,
            }
        )
        return out


#: Ways a point cloud layer can colour its points.
POINT_COLOUR_MODES = ("rgb", "intensity", "elevation", "classification", "return_number")


@evented
@dataclass(eq=False)
class PointCloudLayer(Layer):
    """A point cloud read from one file.

    Attributes
    ----------
    cloud
        The data (replaced, never edited in place, by this layer).
    colour_mode
        One of :data:`POINT_COLOUR_MODES`; ``None`` picks
        :meth:`PointCloud.default_colour_mode`.
    point_size
        Point size in pixels.
    eye_dome_lighting
        Whether to shade points by eye-dome lighting.
    hidden_classes
        ASPRS class codes not drawn.
    """

    cloud: PointCloud | None = None
    colour_mode: str | None = None
    point_size: float = 2.0
    eye_dome_lighting: bool = False
    hidden_classes: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.colour_mode is None:
            self.colour_mode = self.cloud.default_colour_mode() if self.cloud is not None else "elevation"
        if self.colour_mode not in POINT_COLOUR_MODES:
            raise ValueError(f"colour_mode must be one of {POINT_COLOUR_MODES}")
        if not self.point_size > 0:
            raise ValueError("point_size must be positive")

    @property
    def display_model(self) -> PointCloud | None:
        """The cloud as drawn: reprojected to the scene's display CRS when that differs."""
        shown = getattr(self, "_display_model", None)
        return shown if shown is not None else self.cloud

    def set_display_model(self, model: PointCloud | None) -> None:
        """Set by the scene when the layer joins it (not an undoable change)."""
        self._display_model = model

    @property
    def bounds(self):
        """Bounds in the scene's display CRS."""
        cloud = self.display_model
        return cloud.bounds if cloud is not None else None

    @property
    def crs(self):
        """The source CRS."""
        return self.cloud.crs if self.cloud is not None else None

    def info(self) -> dict[str, Any]:
        return {} if self.cloud is None else self.cloud.summary()
