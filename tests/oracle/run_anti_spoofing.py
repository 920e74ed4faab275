"""Run upstream deepface's extract_faces with anti_spoofing=True, one image per call.

    PYTHONPATH=.oracle DEEPFACE_HOME=DIR python tests/oracle/run_anti_spoofing.py '{"images": [...], "detector_backend": "opencv"}'

Prints each image's faces (``facial_area``, ``is_real``, ``antispoof_score``) as JSON.
"""

import json
import sys

import torch  # noqa: F401  (torch and torchvision before TensorFlow, or the process crashes)
import torchvision  # noqa: F401
from deepface import DeepFace


def main() -> None:
    request = json.loads(sys.argv[1])
    answers = []
    for path in request["images"]:
        faces = DeepFace.extract_faces(
            path, detector_backend=request["detector_backend"], enforce_detection=False, anti_spoofing=True
        )
        answers.append(
            [
                {"facial_area": face["facial_area"], "is_real": bool(face["is_real"]),
                 "antispoof_score": float(face["antispoof_score"])}
                for face in faces
            ]
        )
    print("ORACLE-JSON " + json.dumps({"deepface_file": DeepFace.__file__, "answers": answers}))


if __name__ == "__main__":
    main()
