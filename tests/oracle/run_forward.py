"""Run one of upstream deepface's recognition models on preprocessed faces, face by face.

    PYTHONPATH=.oracle DEEPFACE_HOME=DIR python tests/oracle/run_forward.py MODEL IN.npy OUT.npy

``IN.npy`` holds faces shaped (N, H, W, 3) as deepface's ``represent`` feeds them;
``OUT.npy`` receives the (N, D) embeddings, each face run alone through ``forward``.
"""

import sys

import numpy as np
import torch  # noqa: F401  (torch and torchvision before TensorFlow, or the process crashes)
import torchvision  # noqa: F401
from deepface import DeepFace


def main(model_name: str, source: str, target: str) -> None:
    model = DeepFace.build_model(model_name=model_name, task="facial_recognition")
    faces = np.load(source)
    embeddings = [np.asarray(model.forward(face[np.newaxis]), dtype=np.float32) for face in faces]
    np.save(target, np.stack(embeddings))
    print("ORACLE-FILE " + DeepFace.__file__)


if __name__ == "__main__":
    main(*sys.argv[1:4])
