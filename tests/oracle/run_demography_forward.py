"""Run upstream deepface's facial attribute models on face crops, as ``analyze`` runs them.

    PYTHONPATH=.oracle DEEPFACE_HOME=DIR python tests/oracle/run_demography_forward.py IN.npz OUT.npz OUT.json

``IN.npz`` holds BGR uint8 face crops ``crop_0``, ``crop_1``, ... Written to ``OUT.npz``:
``prepared`` (N, 224, 224, 3), each crop as ``analyze`` feeds the models (the whole crop
taken as the face with ``detector_backend="skip"``, then ``analyze``'s own steps);
``gray`` (N, 48, 48), the emotion model's preprocessing of each prepared face; and per
model ``<Model>_probabilities`` (the network's softmax, face by face, as ``predict`` runs
one face) and ``<Model>_batch`` (``predict`` on all faces at once).
``OUT.json`` receives ``analyze`` of each crop (``detector_backend="skip"``).
"""

import json
import sys

import numpy as np
import torch  # noqa: F401  (torch and torchvision before TensorFlow, or the process crashes)
import torchvision  # noqa: F401
from deepface import DeepFace
from deepface.modules import modeling, preprocessing

MODELS = ("Age", "Gender", "Race", "Emotion")
ACTIONS = ("emotion", "age", "gender", "race")


def prepare(crop: np.ndarray) -> np.ndarray:
    """The crop as ``analyze`` gives it to the models (its lines, after extract_faces)."""
    face = DeepFace.extract_faces(crop, detector_backend="skip")[0]["face"]
    face = face[:, :, ::-1]  # rgb to bgr
    return preprocessing.resize_image(img=face, target_size=(224, 224))[0]


def run_model(name: str, prepared: np.ndarray, gray: np.ndarray) -> dict:
    model = modeling.build_model(task="facial_attribute", model_name=name)
    inputs = gray[..., np.newaxis] if name == "Emotion" else prepared
    probabilities = [model.model(x[np.newaxis], training=False).numpy()[0] for x in inputs]
    return {
        f"{name}_probabilities": np.stack(probabilities),
        f"{name}_batch": np.asarray(model.predict(prepared)),
    }


def plain(value):
    """JSON-ready: numpy scalars as Python numbers, containers walked."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value.item() if isinstance(value, np.generic) else value


def main(source: str, target: str, analyses_path: str) -> None:
    stored = np.load(source)
    crops = [stored[f"crop_{k}"] for k in range(len(stored.files))]
    prepared = np.stack([prepare(crop) for crop in crops])
    emotion = modeling.build_model(task="facial_attribute", model_name="Emotion")
    gray = np.stack([emotion._preprocess_image(face) for face in prepared])  # noqa: SLF001
    outputs = {"prepared": prepared, "gray": gray}
    for name in MODELS:
        outputs.update(run_model(name, prepared, gray))
    np.savez(target, **outputs)
    analyses = [
        DeepFace.analyze(crop, actions=ACTIONS, detector_backend="skip", silent=True)[0] for crop in crops
    ]
    with open(analyses_path, "w", encoding="utf-8") as out:
        json.dump(plain(analyses), out)
    print("ORACLE-FILE " + DeepFace.__file__)


if __name__ == "__main__":
    main(*sys.argv[1:4])
