"""Readers: one module per format, each returning plain model data."""

from citytwin.io.options import LoadOptions
from citytwin.io.registry import read

__all__ = ["LoadOptions", "read"]
