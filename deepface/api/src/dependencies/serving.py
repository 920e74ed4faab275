"""The REST server's HTTP behaviour: CORS origins and strict request fields, and the ``.env`` file.

deepface's API answers every origin's cross-origin requests (flask-cors) and reads a ``.env``
file before its environment variables; this package does both. ``DEEPFACE_API_CORS_ORIGINS``
(comma-separated origins, ``*`` for all: the default) narrows CORS; ``DEEPFACE_API_STRICT``
(``1``) answers 400 for a request field that the endpoint does not know, which is otherwise
ignored with a warning in the log, as deepface ignores it.
"""

import os
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Tuple

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


MAX_BATCH_VARIABLE = "DEEPFACE_API_MAX_BATCH"
BATCH_WAIT_VARIABLE = "DEEPFACE_API_BATCH_WAIT_MS"
MAX_QUEUE_VARIABLE = "DEEPFACE_API_MAX_QUEUE"
TIMEOUT_VARIABLE = "DEEPFACE_API_TIMEOUT"
RUNS_VARIABLE = "DEEPFACE_API_RUNS"


@dataclass(frozen=True)
class LoadSettings:
    """How one worker process serves many requests at once (``modules.core.scheduler``).

    Attributes:
        max_batch: the most one-image requests merged into one pipeline call.
        batch_wait_ms: how long the first request of a batch waits for others; 0: no merging.
        max_queue: requests a worker holds (waiting or running); one more answers 503 at once.
        timeout_s: a request not started this long after it came is answered 504, unrun.
        runs: batches a worker runs at once (each uses the engines' threads).
    """

    max_batch: int = 32
    batch_wait_ms: float = 5.0
    max_queue: int = 64
    timeout_s: float = 120.0
    runs: int = 2

    def __post_init__(self) -> None:
        for name in ("max_batch", "max_queue", "runs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.batch_wait_ms < 0:
            raise ValueError(f"batch_wait_ms must not be negative, got {self.batch_wait_ms} ({BATCH_WAIT_VARIABLE})")
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {self.timeout_s} ({TIMEOUT_VARIABLE})")

    @property
    def merging(self) -> bool:
        """Whether concurrent one-image requests are merged at all."""
        return self.batch_wait_ms > 0 and self.max_batch > 1

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "LoadSettings":
        """The settings named by the environment (``os.environ`` by default)."""
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            max_batch=_number(env, MAX_BATCH_VARIABLE, defaults.max_batch, int),
            batch_wait_ms=_number(env, BATCH_WAIT_VARIABLE, defaults.batch_wait_ms, float),
            max_queue=_number(env, MAX_QUEUE_VARIABLE, defaults.max_queue, int),
            timeout_s=_number(env, TIMEOUT_VARIABLE, defaults.timeout_s, float),
            runs=_number(env, RUNS_VARIABLE, defaults.runs, int),
        )


def _number(env: Mapping[str, str], name: str, default: Any, kind: Callable[[str], Any]) -> Any:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        return kind(text)
    except ValueError as err:
        raise ValueError(f"{name} must be a {'whole ' if kind is int else ''}number, not {text!r}") from err
