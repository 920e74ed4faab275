"""Print upstream deepface's tables and small helpers' answers as one JSON document.

    PYTHONPATH=.oracle python tests/oracle/dump_tables.py REQUEST.json

``REQUEST.json`` holds ``embeddings`` (cases, each ``{"model": ..., "value": ...}``) and
``folder`` (a folder of images). The answer has the config tables, each case min-max and
L2 normalized, whether each case is a flat embedding, the folder's images as
``list_images`` and ``yield_images`` give them, and each image's ``find_image_hash``.
Nothing here imports TensorFlow.
"""

import json
import sys

import deepface
from deepface.commons import embed_utils, image_utils
from deepface.config.confidence import confidences
from deepface.config.minmax import get_minmax_values, minmax_values
from deepface.config.threshold import thresholds
from deepface.modules import normalization


def main(request_file: str) -> None:
    with open(request_file, encoding="utf-8") as handle:
        request = json.load(handle)
    cases = request["embeddings"]
    images = image_utils.list_images(request["folder"])
    answer = {
        "oracle_file": deepface.__file__,
        "thresholds": thresholds,
        "minmax_values": minmax_values,
        "confidences": confidences,
        "get_minmax_values": {name: get_minmax_values(name) for name in request["models"]},
        "minmax": [normalization.normalize_embedding_minmax(c["model"], c["value"]) for c in cases],
        "l2": [normalization.normalize_embedding_l2(c["value"]) for c in cases],
        "is_flat": [embed_utils.is_flat_embedding(c["value"]) for c in cases],
        "list_images": images,
        "yield_images": list(image_utils.yield_images(request["folder"])),
        "hashes": {path: image_utils.find_image_hash(path) for path in images},
    }
    print(json.dumps(answer))


if __name__ == "__main__":
    main(sys.argv[1])
