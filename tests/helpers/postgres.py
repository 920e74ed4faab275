"""A throw-away PostgreSQL cluster for tests (``testkit.postgres_cluster``, shared
with the benchmark scripts): use the ``postgres_uri`` fixture (import it into a test
module), or ``PostgresCluster`` directly.
"""

from typing import Iterator

import pytest

from testkit.postgres_cluster import PG_BIN, PostgresCluster, missing_requirement

__all__ = ["PG_BIN", "PostgresCluster", "postgres_or_skip", "postgres_uri"]


def postgres_or_skip() -> None:
    reason = missing_requirement()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_uri() -> Iterator[str]:
    """The URI of a fresh, empty PostgreSQL cluster, stopped and removed after the session."""
    postgres_or_skip()
    cluster = PostgresCluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()
