"""Readers that misbehave on purpose, to show that the fuzz harness catches each kind of failure."""

from __future__ import annotations

import os
import signal
import time

from citytwin.errors import ReaderError
from citytwin.io.registry import ReaderSpec, register_reader


def hang(path, options, progress=None, cancel=None):
    while True:
        time.sleep(0.01)


def boom(path, options, progress=None, cancel=None):
    return {}["missing"]


def hog(path, options, progress=None, cancel=None):
    return bytearray(3 << 30)  # 3 GB: over 1 GB + 10 × a tiny file


def segv(path, options, progress=None, cancel=None):
    os.kill(os.getpid(), signal.SIGSEGV)


def refuse(path, options, progress=None, cancel=None):
    raise ReaderError("The file is hostile.", path)


def rambling(path, options, progress=None, cancel=None):
    raise ReaderError("first line\nsecond line", path)


KINDS = ("hang", "boom", "hog", "segv", "refuse", "rambling")


def register() -> None:
    """A reader per misbehaviour, for files named ``x.<kind>``."""
    for kind in KINDS:
        register_reader(ReaderSpec(f"fake-{kind}", (f".{kind}",), lambda head: False, __name__, kind))
