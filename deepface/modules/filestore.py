"""Where ``find``'s images and datastore live: a local folder, an S3 bucket, an FTP server.

deepface 0.0.103's module: ``build_file_store(db_path)`` picks the store by the path's scheme
(none or a drive letter: a local folder; ``s3://bucket/prefix``; ``ftp://user:pass@host:port/path``)
and checks that it is reachable. A store's paths are the datastore's identities: the local
path, ``s3://bucket/key`` or ``ftp://host[:port]/path`` (no credentials). The datastore file
is written at the store's root (``join(file_name)``), where deepface writes it, so both
packages read each other's.

S3 (boto3, the ``s3`` extra): credentials, region and endpoint as boto3 resolves them
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL``
for MinIO and other S3-compatible servers). FTP (the standard library): the user and password
of the URI, else ``DEEPFACE_FTP_USER`` / ``DEEPFACE_FTP_PASSWORD``, else anonymous.

Beyond deepface: every network step is bounded (``timeout_s``); a failure is a
``FileStoreError`` (a ``PathNotFound``, as deepface raises) naming the host and the bucket
or path, never a secret; and a datastore is uploaded under a temporary name, checked whole,
then renamed (FTP) or copied (S3) into place, so a reader never gets half of one.
"""

import ftplib
import hashlib
import io
import os
import posixpath
import socket
import uuid
from abc import ABC, abstractmethod
from typing import Any, Callable, Iterator, List, Optional, Tuple, TypeVar
from urllib.parse import unquote, urlparse

from deepface.commons import folder_utils, image_utils
from deepface.commons.exceptions import FileStoreError, MissingDependencyError, PathNotFound
from deepface.commons.logger import get_logger

logger = get_logger(__name__)

#: seconds a connection or a single request to a remote store may take
DEFAULT_TIMEOUT_S = 30.0
FTP_DEFAULT_PORT = 21
FTP_USER_VARIABLE = "DEEPFACE_FTP_USER"
FTP_PASSWORD_VARIABLE = "DEEPFACE_FTP_PASSWORD"
#: S3 error codes meaning "no such object"
S3_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
#: botocore's errors for a server that cannot be reached (by name: botocore is optional)
S3_UNREACHABLE_ERRORS = frozenset(
    {"EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError"}
)
T = TypeVar("T")


class FileStore(ABC):
    """The place holding a facial database's images and its datastore file."""

    @abstractmethod
    def validate(self) -> None:
        """Raise ``PathNotFound`` (a ``FileStoreError`` for a remote store) if unreachable."""

    @abstractmethod
    def join(self, file_name: str) -> str:
        """The path of ``file_name`` directly under the store's root."""

    @abstractmethod
    def list_images(self) -> List[str]:
        """The paths of the store's images (``.jpg``, ``.jpeg``, ``.png``), below its root."""

    @abstractmethod
    def find_hash(self, path: str) -> str:
        """A cheap fingerprint of a file from its properties (size, times), not its content."""

    @abstractmethod
    def exists(self, path: str) -> bool:
        """Whether the file is in the store."""

    @abstractmethod
    def read_bytes(self, path: str) -> bytes:
        """A file's content."""

    @abstractmethod
    def write_bytes(self, path: str, data: bytes) -> None:
        """Write a file whole: a reader sees the previous content or the new one, never a part."""

    def load_image(self, path: str) -> Any:
        """The image at ``path`` as ``extract_faces`` takes it: decoded BGR pixels here."""
        pixels = image_utils.decode_bytes(self.read_bytes(path))
        if pixels is None:
            raise ValueError(f"Failed to decode image {path}")
        return pixels

    def pipeline_input(self, path: str) -> Any:
        """The image at ``path`` for the batched pipeline: its encoded bytes, decoded there
        (an undecodable image is that image's error, the others go on)."""
        return self.read_bytes(path)

    def describe(self) -> str:
        """The store for messages and logs (no secret)."""
        return self.join("")


# ---------------------------------------------------------------- local folder


class LocalFileStore(FileStore):
    """A folder on this machine: paths are file paths."""

    def __init__(self, root: str) -> None:
        self.root = root

    def validate(self) -> None:
        if not os.path.isdir(self.root):
            raise PathNotFound(f"Passed path {self.root} does not exist!")

    def join(self, file_name: str) -> str:
        return os.path.join(self.root, file_name)

    def list_images(self) -> List[str]:
        return list(image_utils.yield_images(self.root))

    def find_hash(self, path: str) -> str:
        return image_utils.find_image_hash(path)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def read_bytes(self, path: str) -> bytes:
        with open(path, "rb") as handle:
            return handle.read()

    def write_bytes(self, path: str, data: bytes) -> None:
        folder_utils.write_atomically(path, data)

    def load_image(self, path: str) -> Any:
        return path  # the pipeline reads the file itself

    def pipeline_input(self, path: str) -> Any:
        return path

    def describe(self) -> str:
        return self.root


# ---------------------------------------------------------------- S3


class S3FileStore(FileStore):
    """``s3://bucket/prefix``: credentials, region and endpoint as boto3 resolves them
    (``AWS_*`` variables, ``AWS_ENDPOINT_URL``)."""

    def __init__(self, uri: str, timeout_s: float = DEFAULT_TIMEOUT_S, client: Any = None) -> None:
        parsed = urlparse(uri)
        if parsed.scheme.lower() != "s3" or not parsed.netloc:
            raise ValueError(f"{uri!r} is not an s3://bucket/prefix path: the bucket name is missing")
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self.client = client if client is not None else _s3_client(timeout_s)

    @property
    def endpoint(self) -> str:
        """The server's address (``AWS_ENDPOINT_URL``, or AWS's)."""
        return str(getattr(getattr(self.client, "meta", None), "endpoint_url", "") or "AWS")

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix} at {self.endpoint}"

    def validate(self) -> None:
        self._call("open the bucket", lambda: self.client.head_bucket(Bucket=self.bucket))

    def join(self, file_name: str) -> str:
        return f"s3://{self.bucket}/{posixpath.join(self.prefix, file_name)}"

    def list_images(self) -> List[str]:
        prefix = f"{self.prefix}/" if self.prefix else ""

        def keys() -> List[str]:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
            return [item["Key"] for page in pages for item in page.get("Contents", [])]

        listed = self._call("list the images", keys)
        return sorted(f"s3://{self.bucket}/{key}" for key in listed if _is_image_name(key))

    def find_hash(self, path: str) -> str:
        key = self._key(path)
        head = self._call(f"read the properties of {path}", lambda: self.client.head_object(Bucket=self.bucket, Key=key))
        properties = f"{head['ContentLength']}-{head['ETag']}-{head['LastModified']}"
        return hashlib.sha1(properties.encode("utf-8")).hexdigest()

    def exists(self, path: str) -> bool:
        key = self._key(path)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except _boto_errors() as err:
            if _s3_error_code(err) in S3_MISSING_CODES:
                return False
            raise self._error(f"look for {path}", err) from err

    def read_bytes(self, path: str) -> bytes:
        key = self._key(path)
        return self._call(f"read {path}", lambda: self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def write_bytes(self, path: str, data: bytes) -> None:
        """Upload under a temporary key, check its size, then copy it into place (S3 copies
        are atomic: the key holds the old object or the whole new one)."""
        key = self._key(path)
        temporary = f"{key}.part-{uuid.uuid4().hex[:12]}"
        try:
            body = self._body(data)
            self._call(f"upload {path}", lambda: self.client.put_object(Bucket=self.bucket, Key=temporary, Body=body))
            head = self._call(f"check {path}", lambda: self.client.head_object(Bucket=self.bucket, Key=temporary))
            size = head["ContentLength"]
            if size != len(data):
                raise FileStoreError(f"{self.describe()}: {path} upload incomplete ({size} of {len(data)} bytes)")
            source = {"Bucket": self.bucket, "Key": temporary}
            self._call(f"write {path}", lambda: self.client.copy_object(Bucket=self.bucket, Key=key, CopySource=source))
        finally:
            self._discard(temporary)

    @staticmethod
    def _body(data: bytes) -> Any:
        """The upload's body (a seam for tests that cut an upload short)."""
        return data

    def _discard(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except _boto_errors() as err:  # best effort: the temporary key is never read
            logger.warning("%s: could not delete the temporary %s (%s)", self.describe(), key, type(err).__name__)

    def _key(self, path: str) -> str:
        parsed = urlparse(path)
        if parsed.scheme != "s3" or parsed.netloc != self.bucket:
            raise ValueError(f"{path} is not in bucket {self.bucket}")
        return parsed.path.lstrip("/")

    def _call(self, action: str, step: Callable[[], T]) -> T:
        try:
            return step()
        except _boto_errors() as err:
            raise self._error(action, err) from err

    def _error(self, action: str, err: Exception) -> FileStoreError:
        code = _s3_error_code(err)
        reasons = {
            "404": "the bucket does not exist", "NoSuchBucket": "the bucket does not exist",
            "NoSuchKey": "no such file", "403": "access denied (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)",
            "AccessDenied": "access denied", "InvalidAccessKeyId": "the access key is not known to the server",
            "SignatureDoesNotMatch": "the secret key is wrong (AWS_SECRET_ACCESS_KEY)",
        }
        reason = reasons.get(code or "", f"{type(err).__name__}{f' {code}' if code else ''}")
        if isinstance(err, OSError):
            reason = f"the connection failed ({type(err).__name__})"
        if type(err).__name__ in S3_UNREACHABLE_ERRORS:
            reason = f"the server cannot be reached ({type(err).__name__})"
        elif type(err).__name__ in ("NoCredentialsError", "PartialCredentialsError"):
            reason = "no credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
        return FileStoreError(f"{self.describe()}: cannot {action}: {reason}")


def _s3_client(timeout_s: float) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError as err:
        raise MissingDependencyError(
            "boto3 is required for s3:// paths: pip install 'deepface[s3]' (or pip install boto3)"
        ) from err
    config = Config(connect_timeout=timeout_s, read_timeout=timeout_s, retries={"max_attempts": 2, "mode": "standard"})
    # a session of its own: the AWS_* variables are read now, not cached from an earlier client
    return boto3.session.Session().client("s3", config=config)


def _boto_errors() -> Tuple[type, ...]:
    """botocore's error classes (boto3 is installed once a client exists), and the socket
    errors an upload's body may raise through it."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError, OSError)


def _s3_error_code(err: Exception) -> Optional[str]:
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or "") or None
    return None


# ---------------------------------------------------------------- FTP


class FtpFileStore(FileStore):
    """``ftp://user:password@host:port/path``; without a user or password in the URI,
    ``DEEPFACE_FTP_USER`` / ``DEEPFACE_FTP_PASSWORD`` (read when the store is built), else
    anonymous. One connection, reused while it answers; not for several threads at once."""

    def __init__(
        self,
        uri: str,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        user: Optional[str] = None,
        password: Optional[str] = None,
    ) -> None:
        parsed = urlparse(uri)
        if parsed.scheme.lower() != "ftp" or not parsed.hostname:
            raise ValueError(f"{_without_credentials(uri)!r} is not an ftp://host/path path: the host is missing")
        self.host = parsed.hostname
        self.port = parsed.port or FTP_DEFAULT_PORT
        self.user = user if user is not None else unquote(parsed.username or os.environ.get(FTP_USER_VARIABLE) or "")
        if password is None:
            password = unquote(parsed.password or os.environ.get(FTP_PASSWORD_VARIABLE) or "")
        self._password = password
        self.root = "/" + unquote(parsed.path).strip("/")
        self.timeout_s = timeout_s
        self._ftp: Optional[ftplib.FTP] = None

    def __repr__(self) -> str:
        return f"FtpFileStore({self.describe()!r}, user={self.user!r})"

    def describe(self) -> str:
        return self._uri(self.root)

    # -- connection

    def _connection(self) -> ftplib.FTP:
        if self._ftp is not None:
            try:
                self._ftp.voidcmd("NOOP")
                return self._ftp
            except ftplib.all_errors:
                self._close()
        ftp = ftplib.FTP(timeout=self.timeout_s)
        try:
            ftp.connect(host=self.host, port=self.port, timeout=self.timeout_s)
        except (OSError, EOFError) as err:
            raise FileStoreError(f"{self.describe()}: cannot connect to the server ({_reason(err)})") from err
        try:
            ftp.login(user=self.user, passwd=self._password)
        except ftplib.all_errors as err:
            ftp.close()
            who = f"user {self.user!r}" if self.user else "anonymous login"
            raise FileStoreError(f"{self.describe()}: login refused for {who} ({_reason(err)})") from err
        self._ftp = ftp
        return ftp

    def _close(self) -> None:
        if self._ftp is not None:
            try:
                self._ftp.close()
            finally:
                self._ftp = None

    def _call(self, action: str, step: Callable[[ftplib.FTP], T]) -> T:
        ftp = self._connection()
        try:
            return step(ftp)
        except FileStoreError:
            raise
        except ftplib.all_errors as err:
            if not isinstance(err, ftplib.error_perm):
                self._close()  # a broken connection is not reused
            raise FileStoreError(f"{self.describe()}: cannot {action} ({_reason(err)})") from err

    # -- paths

    def _path(self, path: str) -> str:
        parsed = urlparse(path)
        if parsed.scheme != "ftp" or parsed.hostname != self.host:
            raise ValueError(f"{_without_credentials(path)} is not on ftp server {self.host}")
        return unquote(parsed.path)

    def _uri(self, remote_path: str) -> str:
        port = "" if self.port == FTP_DEFAULT_PORT else f":{self.port}"
        return f"ftp://{self.host}{port}{remote_path}"

    # -- the interface

    def validate(self) -> None:
        self._call("open the folder", lambda ftp: ftp.cwd(self.root))

    def join(self, file_name: str) -> str:
        return self._uri(posixpath.join(self.root, file_name))

    def list_images(self) -> List[str]:
        files = self._call("list the images", lambda ftp: list(_walk(ftp, self.root)))
        return sorted(self._uri(path) for path in files if _is_image_name(path))

    def find_hash(self, path: str) -> str:
        remote = self._path(path)

        def properties(ftp: ftplib.FTP) -> str:
            ftp.voidcmd("TYPE I")
            return f"{ftp.size(remote)}-{ftp.voidcmd(f'MDTM {remote}')}"

        text = self._call(f"read the properties of {remote}", properties)
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def exists(self, path: str) -> bool:
        remote = self._path(path)

        def size(ftp: ftplib.FTP) -> bool:
            ftp.voidcmd("TYPE I")
            try:
                ftp.size(remote)
                return True
            except ftplib.error_perm:
                return False

        return self._call(f"look for {remote}", size)

    def read_bytes(self, path: str) -> bytes:
        remote = self._path(path)
        buffer = io.BytesIO()
        self._call(f"read {remote}", lambda ftp: ftp.retrbinary(f"RETR {remote}", buffer.write))
        return buffer.getvalue()

    def write_bytes(self, path: str, data: bytes) -> None:
        """Upload under a temporary name in the same folder, check its size on the server
        (a dropped data connection looks like a finished upload to it), then rename it."""
        remote = self._path(path)
        folder, name = posixpath.split(remote)
        temporary = posixpath.join(folder, f".{name}.part-{uuid.uuid4().hex[:12]}")
        try:
            self._call(f"upload {remote}", lambda ftp: ftp.storbinary(f"STOR {temporary}", self._stream(data)))
            stored = self._call(f"check {remote}", lambda ftp: (ftp.voidcmd("TYPE I"), ftp.size(temporary))[1])
            if stored != len(data):
                raise FileStoreError(f"{self.describe()}: {remote} upload incomplete ({stored} of {len(data)} bytes)")
            self._call(f"write {remote}", lambda ftp: _replace(ftp, temporary, remote))
        except BaseException:
            self._discard(temporary)
            raise

    @staticmethod
    def _stream(data: bytes) -> Any:
        """The upload's source (a seam for tests that cut an upload short)."""
        return io.BytesIO(data)

    def _discard(self, remote: str) -> None:
        try:
            self._connection().delete(remote)
        except (FileStoreError, *ftplib.all_errors):
            logger.debug("%s: no temporary %s to delete", self.describe(), remote)


def _is_image_name(path: str) -> bool:
    """An image by its extension, as deepface lists a remote folder (its content is not read)."""
    return posixpath.splitext(path)[1].lower() in image_utils.IMAGE_EXTS


def _walk(ftp: ftplib.FTP, folder: str) -> Iterator[str]:
    """The files below ``folder``, depth first (MLSD, or NLST where a server lacks it)."""
    for name, is_folder in _entries(ftp, folder):
        if name in (".", ".."):
            continue
        path = posixpath.join(folder, name)
        if is_folder:
            yield from _walk(ftp, path)
        else:
            yield path


def _entries(ftp: ftplib.FTP, folder: str) -> List[Tuple[str, bool]]:
    try:
        return [
            (name, facts.get("type") == "dir")
            for name, facts in ftp.mlsd(folder, facts=["type"])
            if facts.get("type") in ("dir", "file")
        ]
    except ftplib.error_perm:
        entries = []
        for item in ftp.nlst(folder):
            name = posixpath.basename(item.rstrip("/"))
            try:
                ftp.cwd(posixpath.join(folder, name))
                entries.append((name, True))
            except ftplib.error_perm:
                entries.append((name, False))
        return entries


def _replace(ftp: ftplib.FTP, source: str, target: str) -> None:
    """Rename ``source`` to ``target``; where a server refuses to rename onto a file, the
    old file is deleted first (readers then briefly see no datastore, never half of one)."""
    try:
        ftp.rename(source, target)
    except ftplib.error_perm:
        ftp.delete(target)
        ftp.rename(source, target)


def _reason(err: BaseException) -> str:
    if isinstance(err, socket.timeout):
        return "timed out"
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _without_credentials(uri: str) -> str:
    parsed = urlparse(uri)
    if parsed.password is None and parsed.username is None:
        return uri
    host = parsed.hostname or ""
    port = f":{parsed.port}" if parsed.port else ""
    return parsed._replace(netloc=f"{host}{port}").geturl()


# ---------------------------------------------------------------- choosing a store


def build_file_store(db_path: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> FileStore:
    """The store of ``db_path`` (a local folder, ``s3://bucket/prefix`` or
    ``ftp://user:pass@host:port/path``), checked to be reachable.

    Raises:
        PathNotFound: a local folder that does not exist; ``FileStoreError`` for a remote
            store that cannot be reached or opened.
        ValueError: another scheme.
    """
    path = os.fspath(db_path)
    scheme = urlparse(path).scheme.lower() if "://" in path else ""
    store: FileStore
    if scheme == "s3":
        store = S3FileStore(path, timeout_s=timeout_s)
    elif scheme == "ftp":
        store = FtpFileStore(path, timeout_s=timeout_s)
    elif len(scheme) <= 1:  # no scheme, or a Windows drive letter as in C://photos
        store = LocalFileStore(path)
    else:
        raise ValueError(f"Unsupported db_path scheme {scheme}. Options: s3, ftp or a local folder.")
    store.validate()
    return store

