"""Run upstream deepface's deprecated ``detectFace`` on images, saving each answer as .npy.

    PYTHONPATH=.oracle DEEPFACE_HOME=DIR python tests/oracle/run_detect_face.py REQUEST.json OUT_DIR

The request is a list of ``{"img_path": ..., **keywords}``; answer ``k`` goes to
``OUT_DIR/k.npy`` (a missing file: detectFace returned None). stdout carries the oracle's
console lines (its deprecation warning) and the file it ran from.
"""

import json
import sys
from pathlib import Path

import numpy as np
from deepface import DeepFace


def main() -> None:
    calls = json.loads(Path(sys.argv[1]).read_text())
    out = Path(sys.argv[2])
    for k, call in enumerate(calls):
        if "target_size" in call:
            call["target_size"] = tuple(call["target_size"])
        face = DeepFace.detectFace(**call)
        if face is not None:
            np.save(out / f"{k}.npy", face)
    print("ORACLE-FILE " + DeepFace.__file__)


if __name__ == "__main__":
    main()
