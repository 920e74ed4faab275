"""Run upstream deepface's helper functions that this package offers as aliases, on the
inputs of a request, saving every answer in one .npz.

    PYTHONPATH=.oracle python tests/oracle/run_helpers.py INPUTS.npz OUT.npz

INPUTS holds ``img`` (a BGR image) and ``boxes`` (rows of x, y, w, h, left eye x, y,
right eye x, y). For each box k: ``sub_k``/``sub_xy_k`` (extract_sub_image),
``aligned_k``/``angle_k`` (align_img_wrt_eyes), ``projected_k`` (project_facial_area),
``face_k_align``/``area_k_align`` (extract_face, with and without align, border 7x5);
then ``xywh`` (FastMtCnn.xyxy_to_xywh), ``freeze`` and ``release`` (the countdowns).
"""

import sys
import time

import numpy as np
from deepface.models.Detector import FacialAreaRegion
from deepface.models.face_detection.FastMtCnn import xyxy_to_xywh
from deepface.modules import detection, streaming


def main() -> None:
    inputs = np.load(sys.argv[1])
    img, boxes = inputs["img"], inputs["boxes"]
    out = {}
    for k, (x, y, w, h, lx, ly, rx, ry) in enumerate(boxes.tolist()):
        sub, rel_x, rel_y = detection.extract_sub_image(img, (x, y, w, h))
        out[f"sub_{k}"], out[f"sub_xy_{k}"] = sub, np.array([rel_x, rel_y])
        aligned, angle = detection.align_img_wrt_eyes(sub, (lx, ly), (rx, ry))
        out[f"aligned_{k}"], out[f"angle_{k}"] = aligned, np.array(angle)
        out[f"projected_{k}"] = np.array(detection.project_facial_area((rel_x, rel_y, rel_x + w, rel_y + h), angle, sub.shape[:2]))
        region = FacialAreaRegion(x=x, y=y, w=w, h=h, left_eye=(lx, ly), right_eye=(rx, ry), confidence=0.9)
        for align in (True, False):
            face = detection.extract_face(region, img, align, 10, 7, 5, "opencv")
            area = face.facial_area
            out[f"face_{k}_{align}"] = face.img
            out[f"area_{k}_{align}"] = np.array([area.x, area.y, area.w, area.h, *area.left_eye, *area.right_eye])
    out["xywh"] = np.array(xyxy_to_xywh([10.7, 20.2, 50.9, 61.5]))
    coordinates = [(int(b[0]), int(b[1]), int(b[2]), int(b[3]), True, 0.9) for b in boxes]
    out["freeze"] = streaming.countdown_to_freeze(img.copy(), coordinates, 5, 7)
    out["release"] = streaming.countdown_to_release(img.copy(), time.time() - 0.5, 5)
    np.savez(sys.argv[2], **out)
    print("ORACLE-FILE " + detection.__file__)


if __name__ == "__main__":
    main()
