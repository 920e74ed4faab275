"""A throw-away PostgreSQL cluster for tests and benchmarks: ``initdb`` in a temporary
folder, a server on a Unix socket in that folder, removed at the end.

``initdb`` refuses to run as root, so as root the server runs as the ``postgres`` system
user (``runuser -u postgres``) in a folder it owns. Needs PostgreSQL's binaries
(``/usr/lib/postgresql/15/bin``, or ``DEEPFACE_PG_BIN``) and psycopg 3.

    cluster = PostgresCluster()
    try:
        uri = cluster.start()
        other = cluster.create_database("bench_1")
    finally:
        cluster.stop()
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Optional

PG_BIN = Path(os.environ.get("DEEPFACE_PG_BIN", "/usr/lib/postgresql/15/bin"))
SERVER_USER = "postgres"
READY_TIMEOUT_S = 30.0
DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def missing_requirement(pg_bin: Path = PG_BIN) -> Optional[str]:
    """Why a cluster cannot be started here (a sentence), or None when it can."""
    if not (pg_bin / "initdb").is_file() or not (pg_bin / "pg_ctl").is_file():
        return f"needs PostgreSQL's initdb and pg_ctl in {pg_bin} (apt-get install postgresql)"
    try:
        import psycopg  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        return "needs psycopg 3 (pip install 'psycopg[binary]')"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root needs runuser to start PostgreSQL as the postgres user"
    return None


class PostgresCluster:
    """One cluster: ``start()`` gives its URI, ``stop()`` stops it and removes its folder."""

    def __init__(self, pg_bin: Path = PG_BIN) -> None:
        self.pg_bin = pg_bin
        self.root = Path(tempfile.mkdtemp(prefix="deepface-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self.started = False

    @property
    def uri(self) -> str:
        """The URI of the cluster's ``postgres`` database."""
        return self.database_uri("postgres")

    def database_uri(self, name: str) -> str:
        """The URI of the database ``name`` on this cluster."""
        return f"postgresql://{SERVER_USER}@/{name}?host={self.root}&port={self.port}"

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
        self._run([str(self.pg_bin / "initdb"), "-D", str(self.data), "-U", SERVER_USER, "-A", "trust",
                   "-E", "UTF8", "--locale=C", "--no-sync"])  # fmt: skip
        server_options = f"-k {self.root} -p {self.port} -c listen_addresses='' -c fsync=off"
        self._run([str(self.pg_bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
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

    def create_database(self, name: str) -> str:
        """A new, empty database ``name`` (lower-case letters, digits, ``_``); its URI."""
        import psycopg  # pylint: disable=import-outside-toplevel
        from psycopg import sql  # pylint: disable=import-outside-toplevel

        if not DATABASE_NAME.match(name):
            raise ValueError(f"database name {name!r} must match {DATABASE_NAME.pattern}")
        with psycopg.connect(self.uri, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.database_uri(name)

    def stop(self) -> None:
        try:
            if self.started or (self.data / "postmaster.pid").exists():  # also a start that timed out
                self._run([str(self.pg_bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])
                self.started = False
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
