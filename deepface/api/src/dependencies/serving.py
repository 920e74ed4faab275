"""The REST server's HTTP behaviour: CORS origins and strict request fields, and the ``.env`` file.

deepface's API answers every origin's cross-origin requests (flask-cors) and reads a ``.env``
file before its environment variables; this package does both. ``DEEPFACE_API_CORS_ORIGINS``
(comma-separated origins, ``*`` for all: the default) narrows CORS; ``DEEPFACE_API_STRICT``
(``1``) answers 400 for a request field that the endpoint does not know, which is otherwise
ignored with a warning in the log, as deepface ignores it.
"""

import os
from dataclasses import dataclass
from typing import Mapping, Optional, Tuple

from deepface.api.src.dependencies.variables import TRUE_WORDS, split_names
from deepface.commons.logger import get_logger

logger = get_logger(__name__)

ALL_ORIGINS = "*"
CORS_VARIABLE = "DEEPFACE_API_CORS_ORIGINS"
STRICT_VARIABLE = "DEEPFACE_API_STRICT"


@dataclass(frozen=True)
class HttpSettings:
    """How the REST application answers browsers and unknown fields."""

    cors_origins: Tuple[str, ...] = (ALL_ORIGINS,)
    strict_fields: bool = False

    def __post_init__(self) -> None:
        if not self.cors_origins:
            raise ValueError(f"cors_origins needs at least one origin ({ALL_ORIGINS!r} for all); {CORS_VARIABLE}")

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "HttpSettings":
        """The settings named by the environment (``os.environ`` by default)."""
        env = os.environ if environ is None else environ
        return cls(
            cors_origins=split_names(env.get(CORS_VARIABLE, "")) or (ALL_ORIGINS,),
            strict_fields=env.get(STRICT_VARIABLE, "").strip().lower() in TRUE_WORDS,
        )


def load_env_file() -> Optional[str]:
    """Load the ``.env`` file of the working directory (or the nearest folder above it) into
    ``os.environ``, as deepface's servers do; variables already set win. Returns its path."""
    try:
        from dotenv import find_dotenv, load_dotenv
    except ImportError:
        logger.debug("python-dotenv is not installed: no .env file is read")
        return None
    path = find_dotenv(usecwd=True)
    if not path:
        return None
    load_dotenv(path, override=False)
    logger.info("environment variables read from %s", path)
    return path
