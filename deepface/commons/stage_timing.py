"""Time spent per pipeline stage, reported to whoever listens (a server's metrics).

The pipeline wraps its stages in :func:`timed` (``decode``, ``detect``, ``forward``,
``search``); with no listener set, that costs one attribute read. A server sets one
listener per process with :func:`set_listener` (``stage, seconds``).
"""

import time
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

Listener = Callable[[str, float], None]

_listener: Optional[Listener] = None


def set_listener(listener: Optional[Listener]) -> None:
    """Report every timed stage to ``listener`` (None: stop reporting)."""
    global _listener  # noqa: PLW0603 - one listener per process, by design
    _listener = listener


@contextmanager
def timed(stage: str) -> Iterator[None]:
    """Report the wall time of the block to the listener, when one is set."""
    listener = _listener
    if listener is None:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        listener(stage, time.perf_counter() - start)
