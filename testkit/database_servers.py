"""Throw-away database servers for tests and benchmarks, beside ``postgres_cluster``:
PostgreSQL with the pgvector extension (the ``pgserver`` wheel bundles both), MariaDB
(``mariadbd`` from Debian's ``mariadb-server``) and Redis (``redis-server``). Each runs
in a temporary folder on a free local port, with a password, and is removed by ``stop()``.

    server = RedisServer()
    try:
        url = server.start()
    finally:
        server.stop()
"""

import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from testkit.postgres_cluster import PostgresCluster, free_port
from testkit.postgres_cluster import missing_requirement as postgres_missing

READY_TIMEOUT_S = 60.0
PASSWORD = "deepface-test-secret"
MYSQL_USER = "deepface"
MYSQL_DATABASE = "deepface"
MARIADB_BIN = Path(os.environ.get("DEEPFACE_MARIADB_BIN", "/usr/sbin"))
MARIADB_INSTALL_DB = Path(os.environ.get("DEEPFACE_MARIADB_INSTALL_DB", "/usr/bin/mariadb-install-db"))
REDIS_SERVER = Path(os.environ.get("DEEPFACE_REDIS_SERVER", "/usr/bin/redis-server"))
MYSQL_SYSTEM_USER = "mysql"


def pgvector_bin() -> Optional[Path]:
    """The ``bin`` folder of the PostgreSQL that ``pgserver`` bundles with pgvector (found
    without importing pgserver, which sets things up at import)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).resolve().parent / "pginstall" / "bin"


def pgvector_missing() -> Optional[str]:
    """Why a PostgreSQL + pgvector cluster cannot be started here, or None."""
    folder = pgvector_bin()
    if folder is None:
        return "needs the pgserver wheel (PostgreSQL with pgvector): pip install pgserver"
    for module, package in (("pgvector", "pgvector"), ("psycopg", "psycopg[binary]")):
        try:
            __import__(module)
        except ImportError:
            return f"database_type='pgvector' needs {package} (pip install -e '.[pgvector]')"
    return postgres_missing(folder)


def start_pgvector_cluster() -> PostgresCluster:
    """A started cluster of pgserver's PostgreSQL (``.uri``, ``create_database``)."""
    folder = pgvector_bin()
    assert folder is not None, pgvector_missing()
    cluster = PostgresCluster(pg_bin=folder)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster


def mariadb_missing() -> Optional[str]:
    if not (MARIADB_BIN / "mariadbd").is_file() or not MARIADB_INSTALL_DB.is_file():
        return f"needs mariadbd in {MARIADB_BIN} and {MARIADB_INSTALL_DB} (apt-get install mariadb-server)"
    try:
        import pymysql  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        return "database_type='mysql' needs PyMySQL (pip install -e '.[mysql]')"
    return None


def redis_missing() -> Optional[str]:
    if not REDIS_SERVER.is_file():
        return f"needs {REDIS_SERVER} (apt-get install redis-server)"
    try:
        import redis  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        return "database_type='redis' needs redis-py (pip install -e '.[redis]')"
    return None


def wait_until(ready: Callable[[], bool], what: str, log: Path, process: subprocess.Popen) -> None:
    """Poll ``ready`` until it holds; fail with the server's log when it does not in time."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"{what} did not start (exit {process.poll()}):\n{tail}")
        time.sleep(0.2)


class LocalServer:
    """A server process in a temporary folder on a free 127.0.0.1 port."""

    name = "server"

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=f"deepface-{self.name}-"))
        self.port = free_port()
        self.host = "127.0.0.1"
        self.password = PASSWORD
        self.process: Optional[subprocess.Popen] = None
        self.log = self.root / "server.log"

    def _spawn(self, command: List[str]) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=self.root)

    def stop(self) -> None:
        try:
            if self.process is not None and self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
        finally:
            self.process = None
            shutil.rmtree(self.root, ignore_errors=True)


class RedisServer(LocalServer):
    """``redis-server`` with a password and no persistence; ``start()`` gives its URL."""

    name = "redis"

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@{self.host}:{self.port}/0"

    def start(self) -> str:
        self._spawn([str(REDIS_SERVER), "--port", str(self.port), "--bind", self.host, "--dir", str(self.root),
                     "--save", "", "--appendonly", "no", "--requirepass", self.password])  # fmt: skip
        import redis  # pylint: disable=import-outside-toplevel

        def ready() -> bool:
            try:
                return bool(redis.Redis.from_url(self.url, socket_connect_timeout=1).ping())
            except redis.exceptions.RedisError:
                return False

        assert self.process is not None
        wait_until(ready, "redis-server", self.log, self.process)
        return self.url

    def flush(self) -> None:
        """Remove every key (a fresh database for the next test)."""
        import redis  # pylint: disable=import-outside-toplevel

        with redis.Redis.from_url(self.url) as client:
            client.flushall()


class MariadbServer(LocalServer):
    """``mariadbd`` on a temporary data folder, with the user ``deepface`` (password
    ``PASSWORD``) owning the database ``deepface``; ``start()`` gives its URI. As root the
    server runs as the ``mysql`` system user."""

    name = "mariadb"

    def __init__(self) -> None:
        super().__init__()
        self.data = self.root / "data"
        self.socket = self.root / "mysqld.sock"
        self.as_root = os.geteuid() == 0

    @property
    def uri(self) -> str:
        return f"mysql://{MYSQL_USER}:{self.password}@{self.host}:{self.port}/{MYSQL_DATABASE}"

    def details(self, database: str = MYSQL_DATABASE) -> Dict[str, Any]:
        """PyMySQL ``connect`` keywords for ``database``."""
        return {"host": self.host, "port": self.port, "user": MYSQL_USER, "password": self.password,
                "database": database}  # fmt: skip

    def start(self) -> str:
        user = ["--user=" + MYSQL_SYSTEM_USER] if self.as_root else []
        if self.as_root:
            shutil.chown(self.root, user=MYSQL_SYSTEM_USER, group=MYSQL_SYSTEM_USER)
        init = self.root / "init.sql"
        init.write_text(
            f"CREATE USER IF NOT EXISTS '{MYSQL_USER}'@'127.0.0.1' IDENTIFIED BY '{self.password}';\n"
            f"GRANT ALL PRIVILEGES ON *.* TO '{MYSQL_USER}'@'127.0.0.1';\n"
            f"CREATE DATABASE IF NOT EXISTS {MYSQL_DATABASE};\n"
        )
        done = subprocess.run(
            [str(MARIADB_INSTALL_DB), "--no-defaults", f"--datadir={self.data}",
             "--auth-root-authentication-method=normal", "--skip-test-db", *user],
            capture_output=True, text=True, timeout=120, check=False, cwd=self.root,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        self._spawn([str(MARIADB_BIN / "mariadbd"), "--no-defaults", f"--datadir={self.data}", *user,
                     f"--socket={self.socket}", f"--port={self.port}", f"--bind-address={self.host}",
                     f"--pid-file={self.root / 'mariadbd.pid'}", f"--init-file={init}", "--skip-name-resolve",
                     "--innodb-buffer-pool-size=256M", "--innodb-flush-log-at-trx-commit=2",
                     "--skip-log-bin", "--max-connections=200"])  # fmt: skip
        import pymysql  # pylint: disable=import-outside-toplevel

        def ready() -> bool:
            try:
                pymysql.connect(connect_timeout=1, **self.details()).close()
                return True
            except pymysql.err.Error:
                return False

        assert self.process is not None
        wait_until(ready, "mariadbd", self.log, self.process)
        return self.uri

    def create_database(self, name: str) -> Dict[str, Any]:
        """A new, empty database ``name``; its ``connect`` keywords."""
        import pymysql  # pylint: disable=import-outside-toplevel

        if not name.isidentifier():
            raise ValueError(f"database name {name!r} must be an identifier")
        connection = pymysql.connect(autocommit=True, **self.details())
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {name}")
                cursor.execute(f"CREATE DATABASE {name}")
        finally:
            connection.close()
        return self.details(name)

    def server_version(self) -> str:
        import pymysql  # pylint: disable=import-outside-toplevel

        connection = pymysql.connect(**self.details())
        try:
            return str(connection.get_server_info())
        finally:
            connection.close()
