"""Run one of upstream deepface's networks on its PyTorch engine: the client's torch
module (``client.model``) on channels-last faces, face by face, its raw output kept.

    PYTHONPATH=.oracle DEEPFACE_HOME=DIR DEEPFACE_BACKEND_ENGINE=pytorch \
        python tests/oracle/run_torch_module.py MODEL IN.npy OUT.npy

``IN.npy`` holds faces shaped (N, H, W, C) as deepface's pytorch clients take them
(C is 1 for Emotion); ``OUT.npy`` receives the module's (N, ...) outputs before any of
the client's post-processing (VGG-Face's l2-normalisation, the age estimate).
"""

import sys

import numpy as np
import torch
from deepface import DeepFace
from deepface.commons import backend_utils
from deepface.modules import modeling


def task_of(model_name: str) -> str:
    return "facial_attribute" if model_name in modeling.AVAILABLE_MODELS["facial_attribute"] else "facial_recognition"


def main(model_name: str, source: str, target: str) -> None:
    engine = backend_utils.get_backend_engine()
    assert engine == backend_utils.PYTORCH, f"the oracle runs on {engine}, not pytorch"
    client = modeling.build_model(task=task_of(model_name), model_name=model_name)
    assert isinstance(client.model, torch.nn.Module), type(client.model)
    faces = np.load(source).astype(np.float32)
    outputs = []
    with torch.no_grad():
        for face in faces:
            tensor = torch.from_numpy(np.ascontiguousarray(face[np.newaxis])).permute(0, 3, 1, 2)
            outputs.append(client.model(tensor.to(client.device)).cpu().numpy()[0])
    np.save(target, np.stack(outputs))
    print("ORACLE-FILE " + DeepFace.__file__)


if __name__ == "__main__":
    main(*sys.argv[1:4])
