"""Package logging: stdlib loggers under the ``deepface`` namespace."""

import logging


def get_logger(name: str) -> logging.Logger:
    """Return a logger named below ``deepface`` (``name`` is usually ``__name__``)."""
    if not name.startswith("deepface"):
        name = f"deepface.{name}"
    return logging.getLogger(name)


logging.getLogger("deepface").addHandler(logging.NullHandler())
