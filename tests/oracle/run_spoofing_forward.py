"""Run upstream deepface's anti-spoofing (``Fasnet``) on images and face boxes.

    PYTHONPATH=.oracle DEEPFACE_HOME=DIR \
        python tests/oracle/run_spoofing_forward.py CASES.json IMAGES.npz OUT.npz

First writes random weights under deepface's file names into ``$DEEPFACE_HOME`` unless
they are there (``write_random_fasnet.py``); then deepface's own ``Fasnet()`` loads them.

``IMAGES.npz`` holds BGR uint8 images ``img_0``, ``img_1``, ... ``CASES.json`` holds
``crops``, a list of ``[image index, [x, y, w, h], scale, out_w, out_h]``, and ``pairs``, a
list of ``[image index, [x, y, w, h]]`` (numbers kept as JSON gives them: ints or floats).
Written to ``OUT.npz``: ``crop_<k>``, deepface's ``crop`` of each crop case; per pair,
``first`` and ``second`` (P, 3), each network's softmax inside ``Fasnet.analyze`` (one
face at a time), ``is_real`` (P,) and ``score`` (P,), ``Fasnet.analyze``'s answer.
"""

import json
import sys

import numpy as np
from write_random_fasnet import write_weights  # first: it sets up TensorFlow's import

from deepface import DeepFace
from deepface.models.spoofing.FasNetUtils import crop
from deepface.models.spoofing.tf import FasNet as fasnet_module
from deepface.models.spoofing.tf.FasNet import Fasnet


def recording_softmax(module, seen: list):
    """Make ``module``'s ``softmax`` (what ``Fasnet.analyze`` applies to each network's
    logits) also append its output to ``seen``."""
    original = module.softmax

    def softmax(logits):
        probabilities = original(logits)
        seen.append(probabilities[0])
        return probabilities

    module.softmax = softmax


def main(cases_path: str, images_path: str, target: str) -> None:
    write_weights()
    with open(cases_path, encoding="utf-8") as source:
        cases = json.load(source)
    stored = np.load(images_path)
    images = [stored[f"img_{k}"] for k in range(len(stored.files))]
    outputs = {}
    for k, (index, box, scale, out_w, out_h) in enumerate(cases["crops"]):
        outputs[f"crop_{k}"] = crop(images[index], tuple(box), scale, out_w, out_h)
    model = Fasnet()
    seen, is_real, score = [], [], []
    recording_softmax(fasnet_module, seen)
    for index, box in cases["pairs"]:
        real, value = model.analyze(img=images[index], facial_area=tuple(box))
        is_real.append(real)
        score.append(value)
    assert len(seen) == 2 * len(cases["pairs"]), "Fasnet.analyze no longer calls softmax twice"
    first, second = seen[0::2], seen[1::2]  # analyze runs the 2.7 network, then the 4.0 one
    outputs.update(first=np.stack(first), second=np.stack(second))
    outputs.update(is_real=np.array(is_real, dtype=bool), score=np.array(score, dtype=np.float64))
    np.savez(target, **outputs)
    print("ORACLE-FILE " + DeepFace.__file__)


if __name__ == "__main__":
    main(*sys.argv[1:4])
