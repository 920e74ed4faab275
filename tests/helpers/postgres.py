"""A throw-away PostgreSQL cluster for tests: ``initdb`` in a temporary folder, a server
on a Unix socket in that folder, removed at the end.

``initdb`` refuses to run as root, so as root the server runs as the ``postgres`` system
user (``runuser -u postgres``) in a folder it owns. Use the ``postgres_uri`` fixture
(import it into a test module), or ``PostgresCluster`` directly.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator, List

import pytest

PG_BIN = Path(os.environ.get("DEEPFACE_PG_BIN", "/usr/lib/postgresql/15/bin"))
SERVER_USER = "postgres"
READY_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresCluster:
    """One cluster: ``start()`` gives its URI, ``stop()`` stops it and removes its folder."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="deepface-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self.started = False

    @property
    def uri(self) -> str:
        return f"postgresql://{SERVER_USER}@/postgres?host={self.root}&port={self.port}"

    def _run(self, args: List[str], timeout: float = 60) -> None:
        command = (["runuser", "-u", SERVER_USER, "--"] if self.as_root else []) + args
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, cwd=self.root)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}\n{tail}")

    def start(self) -> str:
        if self.as_root:
            shutil.chown(self.root, user=SERVER_USER, group=SERVER_USER)
        self._run([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", SERVER_USER, "-A", "trust",
                   "-E", "UTF8", "--locale=C", "--no-sync"])  # fmt: skip
        server_options = f"-k {self.root} -p {self.port} -c listen_addresses='' -c fsync=off"
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
                   "-o", server_options, "-w", "-t", str(int(READY_TIMEOUT_S)), "start"])  # fmt: skip
        self.started = True
        self._wait_until_ready()
        return self.uri

    def _wait_until_ready(self) -> None:
        import psycopg  # pylint: disable=import-outside-toplevel

        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                psycopg.connect(self.uri, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        try:
            if self.started or (self.data / "postmaster.pid").exists():  # also a start that timed out
                self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])
                self.started = False
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def postgres_or_skip() -> None:
    if not (PG_BIN / "initdb").is_file() or not (PG_BIN / "pg_ctl").is_file():
        pytest.skip(f"needs PostgreSQL's initdb and pg_ctl in {PG_BIN} (apt-get install postgresql)")
    pytest.importorskip("psycopg")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root needs runuser to start PostgreSQL as the postgres user")


@pytest.fixture(scope="session")
def postgres_uri() -> Iterator[str]:
    """The URI of a fresh, empty PostgreSQL cluster, stopped and removed after the session."""
    postgres_or_skip()
    cluster = PostgresCluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()
