"""A designer's mesh (OBJ, glTF/GLB, PLY, STL, OFF) read as a proposed building for a scenario.

The file is read by :func:`citytwin.io.mesh.read`, with all its checks against hostile input
(declared counts checked against the bytes, a triangle budget, no file reached outside the
file's folder), and every object in it becomes part of one proposal:
:func:`citytwin.model.proposals.proposal_from_mesh` makes the
:class:`~citytwin.model.scenario.AddObject`.

Units are taken as metres (``scale`` converts others). glTF is +Y up by its specification and
is always turned to +Z up; the other formats do not say, and ``up_axis`` tells. Colours,
materials and textures are not kept. A georeferencing sidecar's offset counts only with
``position=None`` (otherwise ``position`` places the proposal).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from citytwin.errors import ReaderError
from citytwin.io import mesh as mesh_reader
from citytwin.model.proposals import MAX_TRIANGLES, proposal_from_mesh
from citytwin.model.scenario import AddObject

__all__ = ["ProposalMesh", "read_proposal", "read_proposal_mesh"]


@dataclass(frozen=True, eq=False)
class ProposalMesh:
    """The triangles of a mesh file, +Z up.

    Attributes
    ----------
    vertices
        ``(N, 3)`` float64, as in the file (glTF turned to +Z up).
    triangles
        ``(F, 3)`` int64 indices into ``vertices``.
    format
        ``"OBJ"``, ``"glTF"``, ``"PLY"`` …
    warnings
        One sentence per kind of problem the reader skipped.
    """

    vertices: np.ndarray
    triangles: np.ndarray
    format: str
    warnings: list[str] = field(default_factory=list)


def read_proposal_mesh(path: str | Path, *, up_axis: str | None = None) -> ProposalMesh:
    """Read a mesh file's triangles for a proposal.

    Parameters
    ----------
    path
        The file.
    up_axis
        ``"z"`` (the default) or ``"y"`` for formats without a declared up axis (OBJ, PLY, STL,
        OFF); ignored for glTF, which is +Y up by definition and always turned to +Z up.

    Raises
    ------
    ReaderError
        With one sentence: an unreadable, empty or damaged file, one without triangles, one with
        NaN or infinite coordinates, or one with more triangles than a proposal may have.
    """
    path = Path(path)
    if up_axis is not None and str(up_axis).lower() not in ("z", "y"):
        raise ReaderError(f"The up axis must be 'z' or 'y', not {up_axis!r}.", path)
    model = mesh_reader.read(path)
    fmt = model.format
    if any("NaN or infinite" in w for w in model.warnings):
        raise ReaderError(f"The {fmt} file has NaN or infinite coordinates.", path)
    mesh = model.mesh
    if mesh.n_triangles == 0:
        raise ReaderError(f"The {fmt} file holds no triangles with an area.", path)
    if mesh.n_triangles > MAX_TRIANGLES:
        raise ReaderError(
            f"The {fmt} file has {mesh.n_triangles:,} triangles, more than a proposal may have "
            f"({MAX_TRIANGLES:,}); simplify it first.",
            path,
        )
    vertices = np.asarray(mesh.vertices, np.float64)
    if not np.isfinite(vertices).all():  # a safety net: the reader drops such triangles
        raise ReaderError(f"The {fmt} file has NaN or infinite coordinates.", path)
    if fmt != "glTF" and str(up_axis or "z").lower() == "y":
        vertices = np.column_stack([vertices[:, 0], -vertices[:, 2], vertices[:, 1]])
    return ProposalMesh(vertices, np.asarray(mesh.triangles, np.int64), fmt, list(model.warnings))


def read_proposal(
    path: str | Path,
    *,
    position: Sequence[float] | None = (0.0, 0.0, 0.0),
    rotate_deg: float = 0.0,
    scale: float = 1.0,
    up_axis: str | None = None,
    object_id: str | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> AddObject:
    """Read a mesh file as a proposed building, placed in the city.

    Parameters
    ----------
    path
        An OBJ, glTF/GLB, PLY, STL or OFF file.
    position, rotate_deg, scale, object_id
        See :func:`citytwin.model.proposals.proposal_from_mesh` (``position=None`` keeps the mesh where
        it is: in world coordinates, or moved by a georeferencing sidecar's offset, see
        :mod:`citytwin.io.mesh`).
    up_axis
        See :func:`read_proposal_mesh`.
    attributes
        Further attributes; ``proposalSource`` (the file's name) is set unless given.

    Returns
    -------
    AddObject
        A ``"Building"`` with the mesh as its LoD2 geometry.

    Raises
    ------
    ReaderError
        With one sentence, for a file that cannot be read or a mesh that cannot be a building
        (placement values out of range included).
    """
    path = Path(path)
    mesh = read_proposal_mesh(path, up_axis=up_axis)
    attrs: dict[str, Any] = {"proposalSource": path.name}
    attrs.update(attributes or {})
    try:
        return proposal_from_mesh(
            mesh.vertices,
            mesh.triangles,
            position=position,
            rotate_deg=rotate_deg,
            scale=scale,
            object_id=object_id,
            attributes=attrs,
        )
    except ValueError as exc:
        message = str(exc)
        raise ReaderError(f"{message[:1].upper()}{message[1:]}.", path) from None
