"""Upstream deepface's ``register``, ``search`` and ``identify`` on given embeddings, driven by
the tests: its whole datastore logic and database clients run, only the face model is replaced.

    PYTHONPATH=.oracle DEEPFACE_HOME=DIR python tests/oracle/run_database_embeddings.py REQUEST.json OUT.json

REQUEST.json: ``{"dimension": N, "gallery": {image name: [face, ...]}, "operations": [...]}``,
each face ``{"embedding": [...], "face": nested list, "facial_area": {...}}`` (the embedding
is L2-normalised when an operation asks for it), each operation
``{"op": "register" | "search" | "identify", "args": [...], "kwargs": {...}}`` whose images
are names of the gallery. deepface's ``__get_embeddings`` (detection + model) is replaced
by a look-up of those faces, and ``build_model``, which deepface's pgvector client calls only
to learn the embedding's length, by an object of that length (``testkit.fake_embeddings``,
appended to ``sys.path`` after upstream deepface). OUT.json: each answer
(searches with ``return_type="dict"``), numpy scalars as Python values.
"""

import json
import sys
from pathlib import Path
from typing import Any

# testkit/ (shared with this package's tests) from the checkout, after upstream deepface
sys.path.append(str(Path(__file__).resolve().parents[2]))


def plain(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        return value.item()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def main(request_file: str, out_file: str) -> None:
    from deepface import DeepFace

    from testkit.fake_embeddings import patch_deepface

    with open(request_file, encoding="utf-8") as handle:
        request = json.load(handle)
    patch_deepface(request["gallery"], request["dimension"])
    answers = []
    for operation in request["operations"]:
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
