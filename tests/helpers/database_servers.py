"""Throw-away pgvector, MariaDB and Redis servers for tests (``testkit.database_servers``),
one per session, started on first use; and a fake face model that gives registered and
query "images" (names) fixed embeddings, so the database layer is tested without a model.

Import ``database_servers`` (the session fixture) into a test module, then
``database_servers.fresh(kind, name)`` gives the connection details of an empty database.
"""

import itertools
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator

import pytest

from testkit.database_servers import (
    MariadbServer,
    RedisServer,
    mariadb_missing,
    pgvector_missing,
    redis_missing,
    start_pgvector_cluster,
)
from testkit.fake_embeddings import Gallery, patch_this_package

KINDS = ("pgvector", "redis", "mysql")
REDIS_DATABASES = 16


@dataclass
class DatabaseServers:
    """The servers of a session, each started when a test first asks for it."""

    started: Dict[str, Any] = field(default_factory=dict)
    redis_numbers: Iterator[int] = field(default_factory=lambda: itertools.cycle(range(REDIS_DATABASES)))
    serial: Iterator[int] = field(default_factory=itertools.count)

    def server(self, kind: str) -> Any:
        if kind not in self.started:
            missing = {"pgvector": pgvector_missing, "redis": redis_missing, "mysql": mariadb_missing}[kind]()
            if missing is not None:
                pytest.skip(missing)
            if kind == "pgvector":
                self.started[kind] = start_pgvector_cluster()
            else:
                server = RedisServer() if kind == "redis" else MariadbServer()
                self.started[kind] = server
                server.start()
        return self.started[kind]

    def fresh(self, kind: str, name: str) -> Any:
        """The connection details (URI, or PyMySQL keywords for mysql) of an empty database."""
        server = self.server(kind)
        if kind in ("pgvector", "mysql"):
            return server.create_database(f"{name}_{next(self.serial)}")
        number = next(self.redis_numbers)
        import redis  # pylint: disable=import-outside-toplevel

        url = server.url.rsplit("/", 1)[0] + f"/{number}"
        with redis.Redis.from_url(url) as client:
            client.flushdb()
        return url

    def stop(self) -> None:
        for server in self.started.values():
            server.stop()


@pytest.fixture(scope="session")
def database_servers() -> Iterator[DatabaseServers]:
    servers = DatabaseServers()
    try:
        yield servers
    finally:
        servers.stop()


def patch_embeddings(monkeypatch: pytest.MonkeyPatch, gallery: Gallery) -> None:
    """This package's detection + model stage answered from ``gallery`` (image name -> faces
    with ``embedding``, ``face``, ``facial_area``; embeddings L2-normalised when asked), as
    the oracle script answers deepface's (``testkit.fake_embeddings``)."""
    patch_this_package(gallery, monkeypatch.setattr)
