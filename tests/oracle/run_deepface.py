"""Run upstream deepface on images, one call per image, and print the faces as JSON.

Run it in its own process with upstream deepface first on PYTHONPATH (this package
shares the name ``deepface``), from a working directory outside the checkout:

    PYTHONPATH=.oracle python tests/oracle/run_deepface.py '{"paths": [...], ...}'
"""

import json
import sys

import torch  # noqa: F401  (torch and torchvision before TensorFlow, or the process crashes)
import torchvision  # noqa: F401
from deepface import DeepFace


def main() -> None:
    request = json.loads(sys.argv[1])
    out = []
    for path in request["paths"]:
        faces = DeepFace.extract_faces(
            img_path=path,
            detector_backend=request["detector_backend"],
            align=request.get("align", True),
            enforce_detection=False,
        )
        out.append(
            [
                {"facial_area": face["facial_area"], "confidence": face["confidence"],
                 "shape": list(face["face"].shape)}
                for face in faces
            ]
        )
    print("ORACLE-JSON " + json.dumps({"deepface_file": DeepFace.__file__, "results": out}))


if __name__ == "__main__":
    main()
