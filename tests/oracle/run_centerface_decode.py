"""Decode CenterFace outputs with upstream deepface's own code; print boxes and landmarks.

Run with upstream deepface first on PYTHONPATH, from outside the checkout:
    PYTHONPATH=.oracle python tests/oracle/run_centerface_decode.py outputs.npz
"""

import json
import sys

import numpy as np
from deepface.models.face_detection.CenterFace import CenterFace


def main() -> None:
    data = np.load(sys.argv[1])
    decoder = CenterFace.__new__(CenterFace)  # no network: only its post-processing is used
    decoder.img_h_new, decoder.img_w_new, decoder.scale_h, decoder.scale_w = decoder.transform(
        int(data["height"]), int(data["width"])
    )
    boxes, landmarks = decoder.postprocess(
        data["heatmap"], data["landmarks"], data["offset"], data["scale"], float(data["threshold"])
    )
    print("ORACLE-JSON " + json.dumps({"boxes": boxes.tolist(), "landmarks": landmarks.tolist()}))


if __name__ == "__main__":
    main()
