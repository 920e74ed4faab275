"""Run upstream deepface's analyze, one image per call, and print the answers as JSON.

    PYTHONPATH=.oracle DEEPFACE_HOME=DIR python tests/oracle/run_analyze.py '{"images": [...], "options": {...}}'

Each answer is deepface's list of dicts (numbers as floats), or ``{"error": "TypeName"}``.
"""

import json
import sys

import torch  # noqa: F401  (torch and torchvision before TensorFlow, or the process crashes)
import torchvision  # noqa: F401
from deepface import DeepFace


def plain(value):
    """JSON-ready: numpy scalars as Python numbers, tuples as lists."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def main() -> None:
    request = json.loads(sys.argv[1])
    answers = []
    for path in request["images"]:
        try:
            answers.append(plain(DeepFace.analyze(path, **request.get("options", {}))))
        except ValueError as error:
            answers.append({"error": type(error).__name__})
    print("ORACLE-JSON " + json.dumps({"deepface_file": DeepFace.__file__, "answers": answers}))


if __name__ == "__main__":
    main()
