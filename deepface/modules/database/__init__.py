"""Face databases for ``register``, ``search``, ``identify`` and ``build_index``: one
module per backend (``sqlite``, ``postgres``, ``qdrant``, ``milvus``), the interface
they share (``types``), and the names deepface accepts (``inventory``)."""

from deepface.modules.database.inventory import AVAILABLE, DATABASES, connect

__all__ = ["AVAILABLE", "DATABASES", "connect"]
