"""Loading files off the GUI thread.

A :class:`LoadWorker` runs :func:`citytwin.io.read` in a ``QThreadPool`` and
reports back through Qt signals, which Qt delivers on the GUI thread (queued
connections). The GUI thread then adds the layer and builds its actors; a
cancelled or failed load never touches the scene.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThread, Signal


class LoadSignals(QObject):
    """Signals of one load (a ``QRunnable`` cannot own signals itself).

    Attributes
    ----------
    progress
        ``(done, total)`` bytes read, throttled.
    loaded
        ``(worker, model)``: the model data read, once finished.
    failed
        ``(worker, message)``: one sentence for a person.
    cancelled
        ``(worker,)``: the user cancelled; nothing was read.

    Connect them to methods of a ``QObject`` living in the GUI thread so Qt
    queues the calls there.
    """

    progress = Signal(object, object)
    loaded = Signal(object, object)
    failed = Signal(object, str)
    cancelled = Signal(object)


class LoadWorker(QRunnable):
    """Read one file in a thread pool.

    Parameters
    ----------
    path
        The file.
    options
        :class:`citytwin.io.LoadOptions` or ``None`` for everything.
    """

    def __init__(self, path: str | Path, options=None) -> None:
        super().__init__()
        self.path = Path(path)
        self.options = options
        self.signals = LoadSignals()
        self._cancel = threading.Event()
        self._last_progress = 0.0
        self.seconds: float | None = None
        self.setAutoDelete(False)  # the window keeps it until its result arrives

    def cancel(self) -> None:
        """Ask the reader to stop; :attr:`LoadSignals.cancelled` follows."""
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def _progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - self._last_progress > 0.05:
            self._last_progress = now
            self.signals.progress.emit(int(done), int(total))

    def run(self) -> None:  # runs in a pool thread
        from citytwin.errors import CityTwinError, LoadCancelled
        from citytwin.io.registry import read

        start = time.perf_counter()
        try:
            model = read(self.path, self.options, progress=self._progress, cancel=self._cancel.is_set)
        except LoadCancelled:
            self.signals.cancelled.emit(self)
            return
        except CityTwinError as exc:
            self.signals.failed.emit(self, _one_sentence(str(exc)))
            return
        except MemoryError:
            self.signals.failed.emit(self, f"{self.path.name}: there is not enough memory to open this file.")
            return
        except Exception as exc:  # a bug in a reader must not take the window down
            self.signals.failed.emit(self, f"{self.path.name} could not be read ({exc.__class__.__name__}: {exc}).")
            return
        self.seconds = time.perf_counter() - start
        if self._cancel.is_set():  # finished just as the user cancelled: honour the cancel
            self.signals.cancelled.emit(self)
            return
        self.signals.loaded.emit(self, model)


def _one_sentence(text: str) -> str:
    """Keep a message to one line (readers promise one sentence; be safe anyway)."""
    text = " ".join(text.split())
    return text if len(text) <= 400 else text[:397] + "…"


class TaskSignals(QObject):
    """Signals of one :class:`TaskWorker`: ``finished(worker, result)`` or ``failed(worker, message)``."""

    finished = Signal(object, object)
    failed = Signal(object, str)


class TaskWorker(QRunnable):
    """Run ``fn(*args, **kwargs)`` in a thread pool (terrain making and other long computations).

    Errors come back as one sentence: the message of a :class:`ValueError` or
    :class:`~citytwin.errors.CityTwinError` (written for a person), else the exception's name.
    """

    def __init__(self, fn, *args, description: str = "", **kwargs) -> None:
        super().__init__()
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.description = description
        self.signals = TaskSignals()
        self.cancelled = False  # set by the window: the result is dropped when it arrives
        self.seconds: float | None = None
        self.setAutoDelete(False)

    def run(self) -> None:  # runs in a pool thread
        from citytwin.errors import CityTwinError

        start = time.perf_counter()
        try:
            result = self.fn(*self.args, **self.kwargs)
        except (CityTwinError, ValueError) as exc:
            self.signals.failed.emit(self, _one_sentence(str(exc)))
            return
        except MemoryError:
            self.signals.failed.emit(self, "There is not enough memory for this.")
            return
        except Exception as exc:  # a bug must not take the window down
            what = self.description or "The task"
            self.signals.failed.emit(self, f"{what} failed ({exc.__class__.__name__}: {exc}).")
            return
        self.seconds = time.perf_counter() - start
        self.signals.finished.emit(self, result)


class JobThread(QThread):
    """Run ``job(thread)`` on a thread of its own (off-screen VTK rendering gets its own GL context there).

    The job reports ``thread.progressed.emit(done, total)`` and polls ``thread.cancel_event``.
    It ends with ``done(result)``, or ``failed(sentence)``: an empty sentence when it was
    cancelled (it raised one of :attr:`cancelled_types`), else one sentence for the user,
    never a traceback.

    Attributes
    ----------
    cancelled_types
        Exceptions that mean "cancelled".
    memory_message
        The sentence for a MemoryError.
    what
        How a failure starts ("The export failed (…)").
    seconds
        How long the job took, after ``done``.
    """

    progressed = Signal(int, int)
    done = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        job,
        parent: QObject | None = None,
        *,
        cancelled_types: tuple[type[BaseException], ...] = (),
        memory_message: str = "There is not enough memory for this.",
        what: str = "The task",
    ) -> None:
        super().__init__(parent)
        self._job = job
        self.cancel_event = threading.Event()
        self.seconds = 0.0
        self.cancelled_types = cancelled_types
        self.memory_message = memory_message
        self.what = what

    def run(self) -> None:  # noqa: D102 - QThread
        from citytwin.errors import CityTwinError

        t0 = time.perf_counter()
        try:
            result = self._job(self)
        except BaseException as exc:  # noqa: BLE001 - one sentence for the user, never a traceback
            if self.cancelled_types and isinstance(exc, self.cancelled_types):
                self.failed.emit("")
            elif isinstance(exc, CityTwinError | ValueError):
                self.failed.emit(_one_sentence(str(exc)))
            elif isinstance(exc, MemoryError):
                self.failed.emit(self.memory_message)
            elif isinstance(exc, Exception):
                self.failed.emit(f"{self.what} failed ({type(exc).__name__}: {exc}).")
            else:
                raise
        else:
            self.seconds = time.perf_counter() - t0
            self.done.emit(result)
