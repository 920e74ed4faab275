"""Upstream deepface's ``register``, ``search``, ``identify`` and ``build_index``, driven by the tests.

Run it in its own process with upstream deepface first on PYTHONPATH, from a working
directory outside the checkout:

    PYTHONPATH=.oracle DEEPFACE_HOME=DIR python tests/oracle/run_datastore.py REQUEST.json OUT.json

REQUEST.json is a list of operations run in order, each ``{"op": "register" | "search" |
"identify" | "build_index", "args": [...], "kwargs": {...}}``; OUT.json holds each
operation's answer (searches with ``return_type="dict"``), numpy scalars as Python values.
"""

import json
import sys
from typing import Any


def plain(value: Any) -> Any:
    """JSON-able: numpy scalars as Python values, tuples as lists, recursively."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        return value.item()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def main(request_file: str, out_file: str) -> None:
    from deepface import DeepFace

    with open(request_file, encoding="utf-8") as handle:
        operations = json.load(handle)
    answers = []
    for operation in operations:
        function = getattr(DeepFace, operation["op"])
        answer = function(*operation.get("args", []), **operation.get("kwargs", {}))
        if isinstance(answer, dict) and "time" in answer:
            answer = {key: item for key, item in answer.items() if key != "time"}
        answers.append(plain(answer))
    with open(out_file, "w", encoding="utf-8") as handle:
        json.dump(answers, handle)
    print("deepface from", DeepFace.__file__)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
