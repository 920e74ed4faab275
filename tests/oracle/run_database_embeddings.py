"""Upstream deepface's ``register``, ``search`` and ``identify`` on given embeddings, driven by
the tests: its whole datastore logic and database clients run, only the face model is replaced.

    PYTHONPATH=.oracle DEEPFACE_HOME=DIR python tests/oracle/run_database_embeddings.py REQUEST.json OUT.json

REQUEST.json: ``{"dimension": N, "gallery": {image name: [face, ...]}, "operations": [...]}``,
each face ``{"embedding": [...], "face": nested list, "facial_area": {...}}`` (the embedding
is L2-normalised when an operation asks for it), each operation
``{"op": "register" | "search" | "identify", "args": [...], "kwargs": {...}}`` whose images
are names of the gallery. deepface's ``__get_embeddings`` (detection + model) is replaced
by a look-up of those faces, and ``build_model``, which deepface's pgvector client calls only
to learn the embedding's length, by an object of that length. OUT.json: each answer
(searches with ``return_type="dict"``), numpy scalars as Python values.
"""

import json
import sys
from types import SimpleNamespace
from typing import Any, Dict, List

import numpy as np


def plain(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        return value.item()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def fake_embeddings(gallery: Dict[str, List[Dict[str, Any]]]) -> Any:
    """deepface's ``__get_embeddings``, answered from ``gallery``: one flat list of faces
    with ``img_index``, as deepface's represent gives them."""

    def get_embeddings(
        img: Any, return_face: bool = True, l2_normalize: bool = False, **_: Any
    ) -> List[Dict[str, Any]]:
        images = img if isinstance(img, list) else [img]
        faces = []
        for index, name in enumerate(images):
            for face in gallery[name]:
                embedding = np.asarray(face["embedding"], dtype=np.float64)
                if l2_normalize:
                    embedding = embedding / np.linalg.norm(embedding)
                entry = {"embedding": embedding.tolist(), "facial_area": face["facial_area"], "img_index": index}
                if return_face:
                    entry["face"] = np.asarray(face["face"], dtype=np.float64)
                faces.append(entry)
        if not faces:
            raise ValueError("No embeddings were detected in the provided image(s).")
        return faces

    return get_embeddings


def main(request_file: str, out_file: str) -> None:
    import deepface.modules.database.pgvector as pgvector_module
    import deepface.modules.datastore as datastore
    from deepface import DeepFace

    with open(request_file, encoding="utf-8") as handle:
        request = json.load(handle)
    setattr(datastore, "__get_embeddings", fake_embeddings(request["gallery"]))
    dimension = request["dimension"]
    pgvector_module.build_model = lambda **_: SimpleNamespace(output_shape=dimension)
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
