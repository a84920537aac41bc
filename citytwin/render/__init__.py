"""Rendering with VTK / pyvista only: never Qt."""
