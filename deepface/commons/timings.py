"""Wall time per pipeline stage, recorded only on request.

The batched pipeline marks its stages with :func:`stage`: ``load`` (the calling thread
waiting for decoded inputs), ``detect`` (bordering and the detector), ``align`` (crops,
rotation and the response's faces), ``prepare`` (faces resized and normalised for a
model), ``forward`` (the model's pass over a batch of faces), ``write`` (the command
line writing its output); also ``decode`` (one input read and decoded, in whichever
thread decodes it) and ``search`` (a database search). Stages nest *exclusively*: time spent in an inner stage is
not counted in the outer one, so the stages of one thread add up to at most the wall
time of the call.

Recording is on inside :func:`collect` (any thread of the process records into every
open collector) and for the whole process with ``DEEPFACE_TIMINGS=1`` (read with
:func:`process_totals`). Off, :func:`stage` returns a shared do-nothing context: no
clock is read and nothing is stored. A server's metrics receive every stage as it ends
through :func:`listen`.

    with timings.collect() as recorded:
        DeepFace.represent(paths, batch_size=8)
    recorded.seconds  # {"load": 0.12, "detect": 1.9, "align": 0.05, "prepare": 0.02, "forward": 3.1}
"""

import os
import threading
from time import perf_counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Dict, Iterator, List, Optional

ENV_VAR = "DEEPFACE_TIMINGS"
#: The stages, in pipeline order (reports list them so; others follow by name).
STAGES = ("load", "decode", "detect", "align", "prepare", "forward", "search", "write")


@dataclass(eq=False)  # collectors are told apart by identity
class Timings:
    """Seconds and entries per stage, from one collector."""

    seconds: Dict[str, float] = field(default_factory=dict)
    calls: Dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, seconds: float) -> None:
        with self._lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds
            self.calls[name] = self.calls.get(name, 0) + 1

    @property
    def total(self) -> float:
        """The stages' seconds together."""
        return sum(self.seconds.values())

    def ordered(self) -> List[str]:
        """The recorded stages, pipeline order first."""
        known = [name for name in STAGES if name in self.seconds]
        return known + sorted(name for name in self.seconds if name not in STAGES)

    def as_dict(self) -> Dict[str, Any]:
        """``{"seconds": {...}, "calls": {...}}`` in pipeline order (the API edge's form)."""
        names = self.ordered()
        return {"seconds": {n: self.seconds[n] for n in names}, "calls": {n: self.calls[n] for n in names}}

    def summary(self) -> str:
        """``"load 0.12 s, detect 1.90 s, forward 3.10 s"``; ``"none recorded"`` when empty."""
        if not self.seconds:
            return "none recorded"
        return ", ".join(f"{name} {self.seconds[name]:.2f} s" for name in self.ordered())


class _Nothing:
    """The context :func:`stage` returns when nothing records: it does nothing."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


_NOTHING = _Nothing()
_sinks: List[Timings] = []  # the open collectors (and the process's, with DEEPFACE_TIMINGS=1)
_sinks_lock = threading.Lock()
_local = threading.local()  # per thread: the stack of open stages
_process: Optional[Timings] = None
_clock = perf_counter  # the stages' clock (a name of its own, so tests can stand in for it)


class _Stage:
    """One entry into a stage: its exclusive wall time goes to every sink open at its start."""

    __slots__ = ("name", "sinks", "started", "inner")

    def __init__(self, name: str, sinks: List[Timings]) -> None:
        self.name = name
        self.sinks = sinks
        self.started = 0.0
        self.inner = 0.0  # seconds of nested stages, taken out of this one's

    def __enter__(self) -> None:
        stack = getattr(_local, "stack", None)
        if stack is None:
            stack = _local.stack = []
        stack.append(self)
        self.started = _clock()

    def __exit__(self, *exc: Any) -> None:
        elapsed = _clock() - self.started
        stack = _local.stack
        stack.pop()
        if stack:
            stack[-1].inner += elapsed
        for sink in self.sinks:
            sink.add(self.name, elapsed - self.inner)


def stage(name: str) -> ContextManager[None]:
    """A context timing the stage ``name`` while anything records; else a shared no-op."""
    if not _sinks:
        return _NOTHING
    return _Stage(name, list(_sinks))


class _Listener:
    """A sink that hands each stage's seconds on as they come (a server's metrics)."""

    __slots__ = ("listener",)

    def __init__(self, listener: Callable[[str, float], None]) -> None:
        self.listener = listener

    def add(self, name: str, seconds: float) -> None:
        self.listener(name, seconds)


_listener: Optional[_Listener] = None


def listen(listener: Optional[Callable[[str, float], None]]) -> Optional[Callable[[str, float], None]]:
    """Hand every stage's exclusive seconds to ``listener(stage, seconds)`` from now on, in
    the thread that ran it (one listener per process; None stops it). Returns the listener
    it replaces, so a caller can put it back."""
    global _listener
    with _sinks_lock:
        previous = _listener.listener if _listener is not None else None
        if _listener is not None:
            _sinks.remove(_listener)  # type: ignore[arg-type]
        _listener = _Listener(listener) if listener is not None else None
        if _listener is not None:
            _sinks.append(_listener)  # type: ignore[arg-type]
    return previous


def recording() -> bool:
    """Whether any collector records now."""
    return bool(_sinks)


@contextmanager
def collect() -> Iterator[Timings]:
    """Record the stages of everything the process runs inside the block (all threads)."""
    recorded = Timings()
    with _sinks_lock:
        _sinks.append(recorded)
    try:
        yield recorded
    finally:
        with _sinks_lock:
            _sinks.remove(recorded)


def enabled_by_environment() -> bool:
    """``DEEPFACE_TIMINGS`` set to ``1``, ``true``, ``yes`` or ``on``."""
    return os.environ.get(ENV_VAR, "").strip().lower() in ("1", "true", "yes", "on")


def process_totals() -> Optional[Timings]:
    """The process's totals since start (or :func:`reset`) with ``DEEPFACE_TIMINGS=1``;
    ``None`` without it."""
    return _process


def reset() -> None:
    """Start the process's totals afresh, following ``DEEPFACE_TIMINGS`` as it is now."""
    global _process
    with _sinks_lock:
        if _process is not None and _process in _sinks:
            _sinks.remove(_process)
        _process = Timings() if enabled_by_environment() else None
        if _process is not None:
            _sinks.append(_process)


reset()
