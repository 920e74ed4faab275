"""Fixed embeddings in place of the face model, for tests and benchmarks of the database
layer: "images" are names of a gallery (name -> faces, each ``{"embedding": [...],
"face": nested list, "facial_area": {...}}``); an embedding is L2-normalised when the call
asks for it, as the real model stage does.

``patch_this_package`` replaces this package's detection + model stage
(``deepface.modules.datastore.iter_represent``); ``patch_deepface`` replaces deepface
0.0.103's (``datastore.__get_embeddings``, and ``build_model``, which its pgvector client
calls only to learn the embedding's length). Everything else of both packages runs.
"""

from types import SimpleNamespace
from typing import Any, Callable, Dict, Iterator, List, Tuple

import numpy as np

Gallery = Dict[str, List[Dict[str, Any]]]
Setter = Callable[[Any, str, Any], None]


def random_gallery(names: List[str], dimension: int, face_side: int, seed: int) -> Gallery:
    """One face per name: a random embedding and a random ``face_side`` x ``face_side`` face."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(len(names), dimension))
    faces = rng.random((len(names), face_side, face_side, 3)).round(6)
    return {
        name: [{"embedding": vector.tolist(), "face": face.tolist(),
                "facial_area": {"x": 0, "y": 0, "w": face_side, "h": face_side, "left_eye": None, "right_eye": None}}]
        for name, vector, face in zip(names, vectors, faces)
    }  # fmt: skip


def embedding_of(face: Dict[str, Any], l2_normalize: bool) -> List[float]:
    values = np.asarray(face["embedding"], dtype=np.float64)
    return (values / np.linalg.norm(values)).tolist() if l2_normalize else values.tolist()


def patch_this_package(gallery: Gallery, setter: Setter = setattr) -> None:
    """This package's ``iter_represent`` answered from ``gallery``."""
    from deepface.modules import datastore  # pylint: disable=import-outside-toplevel
    from deepface.modules.pipeline import ImageResult  # pylint: disable=import-outside-toplevel

    def iter_represent(images: List[Any], options: Any, name_indices: bool = True) -> Iterator[Tuple[Any, Any]]:
        for index, name in enumerate(images):
            faces = [
                {"embedding": embedding_of(face, options.l2_normalize), "facial_area": dict(face["facial_area"]),
                 "face": np.asarray(face["face"], dtype=np.float64), "face_confidence": 1.0}
                for face in gallery[name]
            ]  # fmt: skip
            yield ImageResult(index=index, source=name), faces

    setter(datastore, "iter_represent", iter_represent)


def patch_deepface(gallery: Gallery, dimension: int, setter: Setter = setattr) -> None:
    """deepface 0.0.103's ``__get_embeddings`` answered from ``gallery`` (one flat list of
    faces with ``img_index``, as its ``represent`` gives them)."""
    import deepface.modules.database.pgvector as pgvector_module  # pylint: disable=import-outside-toplevel
    import deepface.modules.datastore as datastore  # pylint: disable=import-outside-toplevel

    def get_embeddings(img: Any, return_face: bool = True, l2_normalize: bool = False, **_: Any) -> List[Dict]:
        images = img if isinstance(img, list) else [img]
        faces = []
        for index, name in enumerate(images):
            for face in gallery[name]:
                entry = {"embedding": embedding_of(face, l2_normalize), "facial_area": face["facial_area"],
                         "img_index": index}  # fmt: skip
                if return_face:
                    entry["face"] = np.asarray(face["face"], dtype=np.float64)
                faces.append(entry)
        if not faces:
            raise ValueError("No embeddings were detected in the provided image(s).")
        return faces

    setter(datastore, "__get_embeddings", get_embeddings)
    setter(pgvector_module, "build_model", lambda **_: SimpleNamespace(output_shape=dimension))
