"""Redis through redis-py, with deepface 0.0.103's keys, so a database filled by either
package is searched by the other (prefix ``deepface``):

- ``deepface:embedding_id``: the counter that gives ids;
- ``deepface:embedding:<id>``: a hash per face (deepface's fields; the embedding as
  little-endian float64 bytes, the face as float32 bytes);
- ``deepface:criteria:<model>:<detector>:<aligned 0|1>:<l2 0|1>``: a sorted set of the ids
  of a criteria set, scored by id;
- ``deepface:dedup:<face_hash>:<embedding_hash>``: the id holding that face and embedding;
- ``deepface:index:<model>:<detector>:<aligned>:<l2>``: a hash holding the faiss index.

A batch is stored by one Lua script, atomically: every uniqueness key is checked before
anything is written, so a failed batch leaves nothing. A search reads every embedding of a
criteria set with one script (one round trip, one reply).
"""

import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlparse

import numpy as np

from deepface.commons.exceptions import DatabaseConnectionError, MissingDependencyError
from deepface.commons.logger import get_logger
from deepface.modules.database.types import (
    CONNECT_TIMEOUT_S,
    Criteria,
    Database,
    NewEmbedding,
    StoredEmbedding,
    connection_error,
    duplicate_error,
    embedding_length,
    find_duplicates,
    group_by_criteria,
    index_not_found,
)

logger = get_logger(__name__)

DATABASE_TYPE = "redis"
KEY_PREFIX = "deepface"
EMBEDDING_DTYPE = "<f8"
#: Stores a batch if none of its uniqueness keys exists: KEYS = the dedup keys, then the
#: record keys, then each record's criteria key; ARGV = the number of fields per record,
#: then per record its id and its field/value pairs. Returns the positions of the records
#: already stored (nothing written then), or an empty list.
STORE_BATCH = """
local n = #KEYS / 3
local found = {}
for i = 1, n do
    if redis.call('EXISTS', KEYS[i]) == 1 then found[#found + 1] = i - 1 end
end
if #found > 0 then return found end
local width = tonumber(ARGV[1])
local at = 2
for i = 1, n do
    local id = ARGV[at]
    redis.call('SET', KEYS[i], id)
    redis.call('HSET', KEYS[n + i], unpack(ARGV, at + 1, at + 2 * width))
    redis.call('ZADD', KEYS[2 * n + i], tonumber(id), id)
    at = at + 1 + 2 * width
end
return {}
"""


#: Every face of a criteria set in one reply: KEYS[1] = the criteria's sorted set, ARGV[1]
#: = the prefix of the record keys. Returns id, img_name, embedding for each, flat.
FETCH_ALL = """
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    local values = redis.call('HMGET', ARGV[1] .. id, 'img_name', 'embedding')
    if values[2] then
        out[#out + 1] = id
        out[#out + 1] = values[1] or ''
        out[#out + 1] = values[2]
    end
end
return out
"""


def import_redis() -> Any:
    try:
        import redis  # pylint: disable=import-outside-toplevel
    except ImportError as error:
        raise MissingDependencyError("database_type='redis' needs redis-py: pip install deepface[redis]") from error
    return redis


def criteria_suffix(criteria: Criteria) -> str:
    return f"{criteria.model_name}:{criteria.detector_backend}:{int(criteria.aligned)}:{int(criteria.l2_normalized)}"


def record_fields(record: NewEmbedding, created_at: str) -> Dict[str, Any]:
    """deepface's hash of one face."""
    criteria = record.criteria
    return {
        "img_name": record.img_name,
        "face": record.face_bytes,
        "face_shape": json.dumps([int(side) for side in record.face.shape]),
        "model_name": criteria.model_name,
        "detector_backend": criteria.detector_backend,
        "aligned": int(criteria.aligned),
        "l2_normalized": int(criteria.l2_normalized),
        "embedding": np.asarray(record.embedding, dtype=EMBEDDING_DTYPE).tobytes(),
        "face_hash": record.face_hash,
        "embedding_hash": record.embedding_hash,
        "created_at": created_at,
    }


def text(value: Any) -> Any:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def as_id(identity_id: Any) -> Optional[int]:
    """``identity_id`` as deepface's integer id; None when it cannot be one."""
    try:
        return int(identity_id)
    except (TypeError, ValueError):
        return None


def describe_host(details: Any) -> Tuple[str, Optional[str]]:
    """(host:port, password) of a redis URL or ``Redis`` keywords."""
    if isinstance(details, str):
        parsed = urlparse(details)
        return f"{parsed.hostname or 'localhost'}:{parsed.port or 6379}", parsed.password
    return f"{details.get('host', 'localhost')}:{details.get('port', 6379)}", details.get("password")


class RedisDatabase(Database):
    """A Redis database (``connection_details``: a ``redis://`` URL or ``redis.Redis``
    keywords; ``DEEPFACE_REDIS_URI`` otherwise). Responses must stay bytes (no
    ``decode_responses``): faces and embeddings are binary."""

    def __init__(self, connection_details: Any = None, connection: Any = None) -> None:
        self.redis = import_redis()
        self.owns_connection = connection is None
        self.conn = connection if connection is not None else self._connect(connection_details)
        self.store_batch = self.conn.register_script(STORE_BATCH)
        self.fetch_criteria = self.conn.register_script(FETCH_ALL)

    def _connect(self, details: Any) -> Any:
        if not isinstance(details, (str, dict)) or not details:
            raise DatabaseConnectionError(
                f"redis connection_details must be a redis:// URL or a dict of redis.Redis keywords, "
                f"not {type(details).__name__}"
            )
        host, password = describe_host(details)
        timeouts = {"socket_connect_timeout": CONNECT_TIMEOUT_S}
        try:
            if isinstance(details, str):
                conn = self.redis.Redis.from_url(details, **timeouts)
            else:
                conn = self.redis.Redis(**{**timeouts, **details})
            conn.ping()
        except (self.redis.exceptions.RedisError, ValueError) as error:
            raise connection_error(DATABASE_TYPE, host, error, password) from None
        return conn

    def close(self) -> None:
        if self.owns_connection:
            self.conn.close()

    def _key(self, *parts: Any) -> str:
        return ":".join((KEY_PREFIX, *map(str, parts)))

    def _stored_length(self, criteria: Criteria) -> Optional[int]:
        first = self.conn.zrange(self._key("criteria", criteria_suffix(criteria)), 0, 0)
        if not first:
            return None
        size = self.conn.hstrlen(self._key("embedding", text(first[0])), "embedding")
        return int(size) // np.dtype(EMBEDDING_DTYPE).itemsize if size else None

    def insert(self, records: Sequence[NewEmbedding]) -> int:
        if not records:
            return 0
        for criteria, group in group_by_criteria(records).items():
            embedding_length(group, self._stored_length(criteria), f"redis criteria {criteria_suffix(criteria)}")
        last = int(self.conn.incrby(self._key("embedding_id"), len(records)))
        ids = range(last - len(records) + 1, last + 1)
        created_at = datetime.now(timezone.utc).isoformat()
        keys = [self._key("dedup", record.face_hash, record.embedding_hash) for record in records]
        keys += [self._key("embedding", identity) for identity in ids]
        keys += [self._key("criteria", criteria_suffix(record.criteria)) for record in records]
        arguments: List[Any] = [len(record_fields(records[0], created_at))]
        for identity, record in zip(ids, records):
            arguments.append(identity)
            for field, value in record_fields(record, created_at).items():
                arguments.extend((field, value))
        found = self.store_batch(keys=keys, args=arguments)
        if not found:
            return len(records)
        if len(records) == 1:  # deepface: one duplicate face is skipped with a warning
            logger.warning("face of %r is already registered: skipped", records[0].img_name)
            return 0
        stored = {(records[int(i)].face_hash, records[int(i)].embedding_hash) for i in found}
        raise duplicate_error(find_duplicates(records, stored))

    def fetch_all(self, criteria: Criteria) -> List[StoredEmbedding]:
        """Every face of ``criteria`` in id order, read by one script (one round trip, one
        reply): a pipeline of one ``HMGET`` per face costs the client more than the server."""
        flat = self.fetch_criteria(keys=[self._key("criteria", criteria_suffix(criteria))],
                                   args=[self._key("embedding", "")])  # fmt: skip
        if not flat:
            return []
        ids, names, blobs = flat[0::3], flat[1::3], flat[2::3]
        matrix = np.frombuffer(b"".join(blobs), dtype=EMBEDDING_DTYPE).reshape(len(ids), -1)
        return [StoredEmbedding(id=int(identity), img_name=text(name), embedding=vector, criteria=criteria)
                for identity, name, vector in zip(ids, names, matrix)]  # fmt: skip

    def fetch_one(self, identity_id: Any, criteria: Criteria) -> Optional[StoredEmbedding]:
        identity = as_id(identity_id)
        if identity is None:
            return None
        fields = ["img_name", "model_name", "detector_backend", "aligned", "l2_normalized", "embedding"]
        values = self.conn.hmget(self._key("embedding", identity), fields)
        if values[5] is None:
            return None
        stored = Criteria(text(values[1]), text(values[2]), bool(int(values[3])), bool(int(values[4])))
        vector = np.frombuffer(values[5], dtype=EMBEDDING_DTYPE).tolist()
        return StoredEmbedding(id=identity, img_name=text(values[0]), embedding=vector, criteria=stored)

    def names_by_id(self, ids: Sequence[Any]) -> Dict[Any, str]:
        wanted = sorted({int(identity) for identity in ids})
        pipe = self.conn.pipeline(transaction=False)
        for identity in wanted:
            pipe.hget(self._key("embedding", identity), "img_name")
        return {identity: text(name) for identity, name in zip(wanted, pipe.execute()) if name is not None}

    def load_index(self, criteria: Criteria) -> bytes:
        data = self.conn.hget(self._key("index", criteria_suffix(criteria)), "index_data")
        if data is None:
            raise index_not_found(criteria)
        return bytes(data)

    def save_index(self, criteria: Criteria, index_data: bytes) -> None:
        key = self._key("index", criteria_suffix(criteria))
        now = datetime.now(timezone.utc).isoformat()
        pipe = self.conn.pipeline(transaction=True)
        pipe.hset(key, mapping={"index_data": index_data, "updated_at": now})
        pipe.hsetnx(key, "created_at", now)
        pipe.execute()


#: deepface 0.0.103's name for the client.
RedisClient = RedisDatabase
