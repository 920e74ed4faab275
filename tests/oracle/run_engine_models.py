"""Run upstream deepface's trained networks on its engine (``DEEPFACE_BACKEND_ENGINE``),
one face at a time, as its clients run them.

    PYTHONPATH=.oracle DEEPFACE_HOME=DIR DEEPFACE_BACKEND_ENGINE=onnx \
        python tests/oracle/run_engine_models.py IN.npz OUT.npz MODEL...

``IN.npz`` holds ``faces_<W>x<H>`` arrays (N, H, W, 3) float32 for the recognition models,
``attribute_faces`` (N, 224, 224, 3) for Age, Gender, Race and Emotion, and ``image`` with
``boxes`` (M, 4) for Fasnet. ``OUT.npz`` receives ``<MODEL>``: the embeddings (N, D), the
predictions (N, ...) or, for Fasnet, (M, 2) rows of (is_real, score).
"""

import sys

import numpy as np
import torch  # noqa: F401  (torch and torchvision before TensorFlow, or the process crashes)
import torchvision  # noqa: F401
from deepface import DeepFace
from deepface.modules import modeling

ATTRIBUTES = ("Age", "Gender", "Race", "Emotion")


def run(name: str, inputs: dict) -> np.ndarray:
    if name == "Fasnet":
        model = modeling.build_model(task="spoofing", model_name=name)
        return np.array([model.analyze(inputs["image"], tuple(box)) for box in inputs["boxes"].tolist()], float)
    if name in ATTRIBUTES:
        model = modeling.build_model(task="facial_attribute", model_name=name)
        return np.stack([np.asarray(model.predict(face), dtype=np.float64) for face in inputs["attribute_faces"]])
    model = modeling.build_model(task="facial_recognition", model_name=name)
    faces = inputs[f"faces_{model.input_shape[0]}x{model.input_shape[1]}"]
    return np.stack([np.asarray(model.forward(face[np.newaxis]), dtype=np.float32) for face in faces])


def main(source: str, target: str, names: list) -> None:
    inputs = dict(np.load(source))
    np.savez(target, **{name: run(name, inputs) for name in names})
    print(f"ORACLE-FILE {DeepFace.__file__} ENGINE {DeepFace.backend_engine}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
