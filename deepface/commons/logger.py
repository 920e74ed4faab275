"""Package logging: stdlib loggers under the ``deepface`` namespace.

Library code logs through :func:`get_logger` (silent unless the application configures
logging). :class:`Logger` is deepface's console logger, kept for code written against
deepface: it writes ``YY-MM-DD HH:MM:SS - message`` lines to standard output, gated by
``$DEEPFACE_LOG_LEVEL``, through the stdlib logger ``deepface.console``.
"""

import logging
import os
import sys
from typing import Any, Optional, TextIO

CONSOLE_LOGGER_NAME = "deepface.console"
LOG_LEVEL_ENV = "DEEPFACE_LOG_LEVEL"

# deepface marks each level's message with a sign; info messages carry none
_PREFIXES = {
    logging.DEBUG: "🕷️ ",
    logging.INFO: "",
    logging.WARNING: "⚠️ ",
    logging.ERROR: "🔴 ",
    logging.CRITICAL: "💥 ",
}


def get_logger(name: str) -> logging.Logger:
    """Return a logger named below ``deepface`` (``name`` is usually ``__name__``)."""
    if not name.startswith("deepface"):
        name = f"deepface.{name}"
    return logging.getLogger(name)


logging.getLogger("deepface").addHandler(logging.NullHandler())


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` is at the time, as ``print`` does."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Optional[TextIO]) -> None:
        pass  # the stream is always the current sys.stdout


def _console_logger() -> logging.Logger:
    """The stdlib logger behind :class:`Logger`, with its handler attached once."""
    console = logging.getLogger(CONSOLE_LOGGER_NAME)
    if not any(isinstance(handler, _StdoutHandler) for handler in console.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s - %(message)s", "%y-%m-%d %H:%M:%S"))
        console.addHandler(handler)
    console.setLevel(1)  # Logger.log_level gates messages; every one that passes is written
    console.propagate = False  # written once, even where the application logs to the console
    return console


def parse_log_level(text: str) -> Optional[int]:
    """A level from ``$DEEPFACE_LOG_LEVEL``: a number (``10``) or a name (``DEBUG``); else None."""
    try:
        return int(text)
    except ValueError:
        level = logging.getLevelName(text.strip().upper())
        return level if isinstance(level, int) else None


class Logger:
    """deepface's console logger: one shared instance, its level read once from the environment.

    ``Logger() is Logger()``; the level is ``$DEEPFACE_LOG_LEVEL`` (default ``logging.INFO``)
    and can be changed through the ``log_level`` attribute.
    """

    _instance: Optional["Logger"] = None

    def __new__(cls) -> "Logger":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __init__(self) -> None:
        if getattr(self, "_initialized", False):
            return  # every later Logger() keeps the first one's settings
        self._initialized = True
        self._console = _console_logger()
        text = os.environ.get(LOG_LEVEL_ENV, str(logging.INFO))
        level = parse_log_level(text)
        if level is None:
            self.dump_log(
                f"Exception while parsing ${LOG_LEVEL_ENV}. Expected int but it is {text}. "
                "Setting app log level to info."
            )
            level = logging.INFO
        self.log_level: int = level

    def debug(self, message: Any) -> None:
        """Write ``message`` when the level is DEBUG or lower."""
        self._log(logging.DEBUG, message)

    def info(self, message: Any) -> None:
        """Write ``message`` when the level is INFO or lower."""
        self._log(logging.INFO, message)

    def warn(self, message: Any) -> None:
        """Write ``message`` when the level is WARNING or lower."""
        self._log(logging.WARNING, message)

    warning = warn

    def error(self, message: Any) -> None:
        """Write ``message`` when the level is ERROR or lower."""
        self._log(logging.ERROR, message)

    def critical(self, message: Any) -> None:
        """Write ``message`` when the level is CRITICAL or lower."""
        self._log(logging.CRITICAL, message)

    def dump_log(self, message: Any) -> None:
        """Write ``message`` whatever the level."""
        self._write(logging.INFO, f"{message}")

    def _log(self, level: int, message: Any) -> None:
        if self.log_level <= level:
            self._write(level, f"{_PREFIXES[level]}{message}")

    def _write(self, level: int, text: str) -> None:
        self._console.log(level, text)
