"""Run upstream deepface's PyTorch anti-spoofing networks on 80x80 crops, one at a time.

    PYTHONPATH=.oracle DEEPFACE_HOME=DIR python tests/oracle/run_fasnet_torch.py IN.npy OUT.npz

The ``.pth`` files must already be in ``$DEEPFACE_HOME/.deepface/weights``
(``write_random_engine_weights.py Fasnet``): deepface's own pytorch ``Fasnet()`` loads
them (stripping a ``module.`` key prefix if there is one). ``IN.npy`` holds crops
``(N, 80, 80, 3)`` as ``Fasnet.analyze`` makes them (BGR, ``[0, 255]``). Each crop goes
through deepface's own transform and each network alone. Written to ``OUT.npz``:
``first`` (MiniFASNetV2) and ``second`` (MiniFASNetV1SE), ``(N, 3)`` logits each: what
the networks return before ``analyze`` applies its softmax.
"""

import sys

import numpy as np
import torch
from deepface import DeepFace
from deepface.models.spoofing.pytorch import FasNet as fasnet_module


def logits(model: torch.nn.Module, crops: np.ndarray, device: torch.device) -> np.ndarray:
    transform = fasnet_module.Compose([fasnet_module.ToTensor()])
    rows = []
    with torch.no_grad():
        for crop in crops:
            rows.append(model.forward(transform(crop).unsqueeze(0).to(device)).cpu().numpy()[0])
    return np.stack(rows).astype(np.float32)


def main(source: str, target: str) -> None:
    client = fasnet_module.Fasnet()
    crops = np.load(source)
    np.savez(
        target,
        first=logits(client.first_model, crops, client.device),
        second=logits(client.second_model, crops, client.device),
    )
    print("ORACLE-FILE " + DeepFace.__file__)


if __name__ == "__main__":
    main(*sys.argv[1:3])
