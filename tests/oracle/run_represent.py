"""Run upstream deepface's represent and verify, one image (one pair) per call, as JSON.

    PYTHONPATH=.oracle DEEPFACE_HOME=DIR python tests/oracle/run_represent.py '{"represent": [...], ...}'

Request keys: ``represent`` (paths), ``verify`` (pairs of paths) and ``options`` (keyword
arguments for both, e.g. model_name, detector_backend, normalization).
"""

import json
import sys

import torch  # noqa: F401  (torch and torchvision before TensorFlow, or the process crashes)
import torchvision  # noqa: F401
from deepface import DeepFace


def main() -> None:
    request = json.loads(sys.argv[1])
    options = request.get("options", {})
    verify_options = {k: v for k, v in options.items() if k not in ("max_faces", "l2_normalize", "minmax_normalize")}
    represented = [DeepFace.represent(path, **options) for path in request.get("represent", [])]
    verified = []
    for first, second in request.get("verify", []):
        answer = DeepFace.verify(first, second, **verify_options)
        answer.pop("time")
        verified.append(answer)
    print("ORACLE-JSON " + json.dumps({"deepface_file": DeepFace.__file__, "represent": represented, "verify": verified}))


if __name__ == "__main__":
    main()
