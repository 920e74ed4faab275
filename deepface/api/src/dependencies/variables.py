"""The API's settings: deepface's environment variables plus this package's input limits.

deepface's variables keep their meaning: ``DEEPFACE_AUTH_TOKEN`` (bearer token, optional),
``DEEPFACE_DATABASE_TYPE`` (``postgres``), ``DEEPFACE_CONNECTION_DETAILS`` or the database's
own variable (``DEEPFACE_POSTGRES_URI``, ``DEEPFACE_SQLITE_PATH``, ...),
``DEEPFACE_FACE_RECOGNITION_MODELS`` and ``DEEPFACE_FACE_DETECTION_MODELS`` (comma-separated
models built at start-up). This package adds ``DEEPFACE_API_ALLOW_PATHS`` (folders, separated
by ``os.pathsep``, whose files a request may name), ``DEEPFACE_API_ALLOW_URLS`` (``1`` lets a
request name an http(s) URL) and ``DEEPFACE_API_MAX_REQUEST_MB`` (largest request body).
``Variables()`` reads them when it is made, as deepface's does.
"""

import os
from dataclasses import dataclass, fields
from typing import Any, Dict, Mapping, Optional, Tuple

from deepface.modules.database.inventory import DATABASES, DEFAULT_DATABASE

DEFAULT_MAX_REQUEST_MB = 32.0

#: Database types whose library default needs no connection details (a local file).
EMBEDDED_DATABASES = frozenset({"sqlite"})
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


#: A field not given to ``Variables(...)``: read from the environment.
FROM_ENVIRONMENT: Any = object()


@dataclass(frozen=True)
class Variables:
    """Everything the application is configured with. As deepface's ``Variables()``, a field
    not given is read from the environment when the object is made (``from_env`` reads a
    given mapping instead). ``conection_details`` is deepface's spelling of
    ``connection_details``."""

    database_type: str = FROM_ENVIRONMENT
    connection_details: Optional[str] = FROM_ENVIRONMENT
    auth_token: Optional[str] = FROM_ENVIRONMENT
    face_recognition_models: Tuple[str, ...] = FROM_ENVIRONMENT
    face_detection_models: Tuple[str, ...] = FROM_ENVIRONMENT
    allow_paths: Tuple[str, ...] = FROM_ENVIRONMENT
    allow_urls: bool = FROM_ENVIRONMENT
    max_request_mb: float = FROM_ENVIRONMENT

    def __post_init__(self) -> None:
        unset = [f.name for f in fields(self) if getattr(self, f.name) is FROM_ENVIRONMENT]
        if unset:
            database_type = self.database_type if "database_type" not in unset else None
            read = settings_from(os.environ, database_type)
            for name in unset:
                object.__setattr__(self, name, read[name])
        if self.database_type not in DATABASES:
            raise ValueError(
                f"Unsupported database type: {self.database_type} (DEEPFACE_DATABASE_TYPE); "
                f"known: {', '.join(sorted(DATABASES))}"
            )
        if self.max_request_mb <= 0:
            raise ValueError(f"max_request_mb must be positive, got {self.max_request_mb}")

    @property
    def conection_details(self) -> Optional[str]:
        """deepface's spelling of :attr:`connection_details`."""
        return self.connection_details

    @property
    def database_configured(self) -> bool:
        """True when /register, /search and /build/index know where the database is."""
        return self.connection_details is not None or self.database_type in EMBEDDED_DATABASES

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "Variables":
        """The settings named by the environment (``os.environ`` by default)."""
        return cls(**settings_from(os.environ if environ is None else environ))


def settings_from(env: Mapping[str, str], database_type: Optional[str] = None) -> Dict[str, Any]:
    """Every field of :class:`Variables` as ``env`` names it (``database_type``: the one
    whose own variable holds the connection details, when already chosen)."""
    database_type = database_type or env.get("DEEPFACE_DATABASE_TYPE", DEFAULT_DATABASE).lower()
    spec = DATABASES.get(database_type)
    own_variable = spec.environment_variable if spec else ""
    return {
        "database_type": database_type,
        "connection_details": env.get("DEEPFACE_CONNECTION_DETAILS") or env.get(own_variable) or None,
        "auth_token": env.get("DEEPFACE_AUTH_TOKEN") or None,
        "face_recognition_models": split_names(env.get("DEEPFACE_FACE_RECOGNITION_MODELS", "")),
        "face_detection_models": split_names(env.get("DEEPFACE_FACE_DETECTION_MODELS", "")),
        "allow_paths": tuple(p for p in env.get("DEEPFACE_API_ALLOW_PATHS", "").split(os.pathsep) if p),
        "allow_urls": env.get("DEEPFACE_API_ALLOW_URLS", "").strip().lower() in TRUE_WORDS,
        "max_request_mb": float(env.get("DEEPFACE_API_MAX_REQUEST_MB", DEFAULT_MAX_REQUEST_MB)),
    }


def split_names(text: str) -> Tuple[str, ...]:
    """``"VGG-Face, Facenet"`` -> ``("VGG-Face", "Facenet")``."""
    return tuple(name.strip() for name in text.split(",") if name.strip())
