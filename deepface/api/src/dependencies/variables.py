"""The API's settings: deepface's environment variables plus this package's input limits.

deepface's variables keep their meaning: ``DEEPFACE_AUTH_TOKEN`` (bearer token, optional),
``DEEPFACE_DATABASE_TYPE`` (``postgres``), ``DEEPFACE_CONNECTION_DETAILS`` or the database's
own variable (``DEEPFACE_POSTGRES_URI``, ``DEEPFACE_SQLITE_PATH``, ...),
``DEEPFACE_FACE_RECOGNITION_MODELS`` and ``DEEPFACE_FACE_DETECTION_MODELS`` (comma-separated
models built at start-up). This package adds ``DEEPFACE_API_ALLOW_PATHS`` (folders, separated
by ``os.pathsep``, whose files a request may name), ``DEEPFACE_API_ALLOW_URLS`` (``1`` lets a
request name an http(s) URL) and ``DEEPFACE_API_MAX_REQUEST_MB`` (largest request body).
"""

import os
from dataclasses import dataclass
from typing import Mapping, Optional, Tuple

from deepface.modules.database.inventory import DATABASES, DEFAULT_DATABASE

DEFAULT_MAX_REQUEST_MB = 32.0

#: Database types whose library default needs no connection details (a local file).
EMBEDDED_DATABASES = frozenset({"sqlite"})
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True)
class Variables:
    """Everything the application is configured with; ``from_env`` reads deepface's variables."""

    database_type: str = DEFAULT_DATABASE
    connection_details: Optional[str] = None
    auth_token: Optional[str] = None
    face_recognition_models: Tuple[str, ...] = ()
    face_detection_models: Tuple[str, ...] = ()
    allow_paths: Tuple[str, ...] = ()
    allow_urls: bool = False
    max_request_mb: float = DEFAULT_MAX_REQUEST_MB

    def __post_init__(self) -> None:
        if self.database_type not in DATABASES:
            raise ValueError(
                f"Unsupported database type: {self.database_type} (DEEPFACE_DATABASE_TYPE); "
                f"known: {', '.join(sorted(DATABASES))}"
            )
        if self.max_request_mb <= 0:
            raise ValueError(f"max_request_mb must be positive, got {self.max_request_mb}")

    @property
    def database_configured(self) -> bool:
        """True when /register, /search and /build/index know where the database is."""
        return self.connection_details is not None or self.database_type in EMBEDDED_DATABASES

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "Variables":
        """The settings named by the environment (``os.environ`` by default)."""
        env = os.environ if environ is None else environ
        database_type = env.get("DEEPFACE_DATABASE_TYPE", DEFAULT_DATABASE).lower()
        spec = DATABASES.get(database_type)
        own_variable = spec.environment_variable if spec else ""
        return cls(
            database_type=database_type,
            connection_details=env.get("DEEPFACE_CONNECTION_DETAILS") or env.get(own_variable) or None,
            auth_token=env.get("DEEPFACE_AUTH_TOKEN") or None,
            face_recognition_models=split_names(env.get("DEEPFACE_FACE_RECOGNITION_MODELS", "")),
            face_detection_models=split_names(env.get("DEEPFACE_FACE_DETECTION_MODELS", "")),
            allow_paths=tuple(p for p in env.get("DEEPFACE_API_ALLOW_PATHS", "").split(os.pathsep) if p),
            allow_urls=env.get("DEEPFACE_API_ALLOW_URLS", "").strip().lower() in TRUE_WORDS,
            max_request_mb=float(env.get("DEEPFACE_API_MAX_REQUEST_MB", DEFAULT_MAX_REQUEST_MB)),
        )


def split_names(text: str) -> Tuple[str, ...]:
    """``"VGG-Face, Facenet"`` -> ``("VGG-Face", "Facenet")``."""
    return tuple(name.strip() for name in text.split(",") if name.strip())
