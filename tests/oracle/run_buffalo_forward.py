"""Run upstream deepface's Buffalo_L (through insightface) on preprocessed faces, face by face.

    PYTHONPATH=.oracle DEEPFACE_HOME=DIR python tests/oracle/run_buffalo_forward.py IN.npy OUT.npy

``IN.npy`` holds (N, 112, 112, 3) faces as deepface's ``represent`` feeds them; ``OUT.npy``
receives the (N, 512) embeddings of ``forward`` on each face alone. Without insightface
beside the oracle it prints a line starting ``ORACLE-SKIP`` and writes nothing.
"""

import importlib.util
import sys

import numpy as np


def main(source: str, target: str) -> None:
    if importlib.util.find_spec("insightface") is None:
        print("ORACLE-SKIP insightface is not installed beside the oracle "
              "(upstream's Buffalo_L runs through it)")
        return
    import torch  # noqa: F401  (torch and torchvision before TensorFlow, or the process crashes)
    import torchvision  # noqa: F401
    from deepface import DeepFace

    model = DeepFace.build_model(model_name="Buffalo_L", task="facial_recognition")
    faces = np.load(source)
    embeddings = [np.asarray(model.forward(face[np.newaxis]), dtype=np.float32) for face in faces]
    np.save(target, np.stack(embeddings))
    recognizer = model.model  # insightface's ArcFaceONNX
    print(f"ORACLE-NORMALISATION {recognizer.input_mean} {recognizer.input_std}")
    print("ORACLE-FILE " + DeepFace.__file__)


if __name__ == "__main__":
    main(*sys.argv[1:3])
