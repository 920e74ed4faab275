"""The options of every verb, written once (see ``deepface.options.verbs``), and the
machinery that reads them (``deepface.options.table``). A low layer: it imports nothing
of deepface above ``deepface.commons``."""

from deepface.options.table import Option, Table
from deepface.options.verbs import (
    ANALYZE,
    BUILD_INDEX,
    DETECTION,
    EXTRACT,
    FIND,
    REGISTER,
    REPRESENT,
    SEARCH,
    VERBS,
    VERIFY,
)

__all__ = [
    "ANALYZE", "BUILD_INDEX", "DETECTION", "EXTRACT", "FIND", "Option", "REGISTER", "REPRESENT", "SEARCH",
    "Table", "VERBS", "VERIFY",
]
