"""Moving a few objects of a merged layer mesh in the vertex shader, without re-uploading its points.

A layer is one mesh (one vertex buffer of every point). Rewriting a moved building's points in
that buffer makes VTK upload the whole buffer again: 120 MB for 100,000 buildings. Instead, the
mapper draws a *base* copy of the points that changes rarely, and the vertex shader transforms
the points of up to :data:`SLOTS` runs of consecutive points (an object's points are one run, or
a few) by a 4 × 4 matrix each, given as uniforms. Moving one building is then a few uniforms: no
upload, and no per-point attribute (the shader tells points apart by ``gl_VertexID``, which in
an indexed draw is the point's index).

The transforms are in the mapper's model coordinates (float32 relative to the scene origin);
normals are made in the fragment shader from the transformed positions, so lighting follows.
Every later stage of VTK's shader (clipping, view and projection, shadow passes) sees the moved
position, because it reads a variable that stands in for ``vertexMC``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: runs of points drawn moved by the shader at once; past that the moves are written into the base points
#: (0: never moved by the shader: the mapper draws the moved points themselves, one upload per move)
SLOTS = 16

_DEC = """in vec4 vertexMC;
vec4 ctMC;
#define vertexMC ctMC
"""

# at the start of main (before VTK's first use of vertexMC in every VTK 9 polydata shader): the moved position
_IMPL = """#undef vertexMC
  ctMC = vertexMC;
  if (ctLive > 0 && gl_VertexID >= ctSpan.x && gl_VertexID <= ctSpan.y)
  {
    for (int i = 0; i < ctLive; ++i)
    {
      if (gl_VertexID >= ctFirst[i] && gl_VertexID <= ctLast[i]) { ctMC = ctMats[i] * vertexMC; break; }
    }
  }
#define vertexMC ctMC
  //VTK::Clip::Impl
"""


def install(actor: Any) -> None:
    """Make ``actor``'s polydata mapper draw runs of points moved (see :func:`set_moves`)."""
    sp = actor.GetShaderProperty()
    sp.AddVertexShaderReplacement("in vec4 vertexMC;", True, _DEC, False)
    sp.AddVertexShaderReplacement("//VTK::Clip::Impl", True, _IMPL, False)
    set_moves(actor, [])  # declares every uniform once: later changes are values only, never a new shader


def runs(idx: np.ndarray) -> list[tuple[int, int]]:
    """``(first, last)`` of each run of consecutive values in sorted unique point indices ``idx``."""
    idx = np.asarray(idx, np.int64)
    if len(idx) == 0:
        return []
    cut = np.flatnonzero(np.diff(idx) != 1)
    firsts = np.concatenate([[idx[0]], idx[cut + 1]])
    lasts = np.concatenate([idx[cut], [idx[-1]]])
    return list(zip(firsts.tolist(), lasts.tolist(), strict=True))


def set_moves(actor: Any, moves: list[tuple[int, int, np.ndarray]]) -> None:
    """Draw the points ``first..last`` of each of ``moves`` transformed by its ``(4, 4)`` model-coordinate matrix."""
    if len(moves) > SLOTS:
        raise ValueError(f"At most {SLOTS} runs of points move in the shader at once.")
    first = np.zeros(SLOTS, np.int32)
    last = np.full(SLOTS, -1, np.int32)
    mats = np.tile(np.eye(4, dtype=np.float32), (SLOTS, 1, 1))
    for k, (a, b, m) in enumerate(moves):
        first[k], last[k] = a, b
        mats[k] = np.asarray(m, np.float32)
    u = actor.GetShaderProperty().GetVertexCustomUniforms()
    u.SetUniformi("ctLive", len(moves))
    span = [int(first[: len(moves)].min()), int(last[: len(moves)].max())] if moves else [0, -1]
    u.SetUniform2i("ctSpan", span)
    u.SetUniform1iv("ctFirst", SLOTS, first.tolist())
    u.SetUniform1iv("ctLast", SLOTS, last.tolist())
    u.SetUniformMatrix4x4v("ctMats", SLOTS, mats.transpose(0, 2, 1).ravel().tolist())  # GLSL is column-major


def local_matrix(world: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """A world-coordinate ``(4, 4)`` transform as it acts on points relative to ``origin``."""
    m = np.array(world, np.float64)
    o = np.asarray(origin, np.float64)
    m[:3, 3] = m[:3, :3] @ o + m[:3, 3] - o
    return m


__all__ = ["SLOTS", "install", "local_matrix", "runs", "set_moves"]
