"""YuNet through OpenCV's ``FaceDetectorYN`` (loops: it takes one image at a time)."""

import os
import threading
from typing import Any, List, Optional

import cv2
import numpy as np
from numpy.typing import NDArray

from deepface.commons import weight_utils
from deepface.models.Detector import Detector, FacialAreaRegion
from deepface.commons.exceptions import MissingDependencyError

WEIGHTS = ("face_detection_yunet_2023mar.onnx",
           "https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/"
           "face_detection_yunet_2023mar.onnx")
WEIGHTS_URL = WEIGHTS[1]  # deepface's name
THRESHOLD_ENV = "yunet_score_threshold"  # the (lower-case) variable deepface reads
DEFAULT_THRESHOLD = 0.9
MAX_SIDE = 640  # deepface shrinks larger images to this before detecting


def resolve_threshold(score_threshold: Optional[float]) -> float:
    """The keyword if given, else ``$yunet_score_threshold``, else 0.9 (deepface's)."""
    if score_threshold is not None:
        return float(score_threshold)
    return float(os.environ.get(THRESHOLD_ENV, str(DEFAULT_THRESHOLD)))


def shrink_factor(height: int, width: int) -> float:
    """The factor deepface resizes an image by before YuNet (1 when it fits in 640 px)."""
    return MAX_SIDE / max(height, width) if max(height, width) > MAX_SIDE else 1.0


def regions_from_rows(rows: Optional[NDArray[Any]], factor: float) -> List[FacialAreaRegion]:
    """Faces from ``FaceDetectorYN.detect`` rows (box, right eye, left eye, ..., score),
    mapped back from an image resized by ``factor``."""
    if rows is None:
        return []
    regions = []
    for row in rows:
        x, y, w, h, right_x, right_y, left_x, left_y = (int(v) for v in row[:8])
        x, y = max(x, 0), max(y, 0)
        if factor != 1.0:
            x, y, w, h = int(x / factor), int(y / factor), int(w / factor), int(h / factor)
            right_x, right_y = int(right_x / factor), int(right_y / factor)
            left_x, left_y = int(left_x / factor), int(left_y / factor)
        regions.append(FacialAreaRegion(
            x=x, y=y, w=w, h=h,
            # YuNet lists the eye on the picture's left first: the person's right eye
            right_eye=(right_x, right_y), left_eye=(left_x, left_y),
            confidence=float(row[-1]),
        ))
    return regions


class YuNetClient(Detector):
    """YuNet (OpenCV >= 4.8). Args: ``score_threshold`` (deepface: 0.9)."""

    def __init__(self, score_threshold: Optional[float] = None) -> None:
        major, minor = (int(part) for part in cv2.__version__.split(".")[:2])
        if (major, minor) < (4, 8) or not hasattr(cv2, "FaceDetectorYN"):
            raise MissingDependencyError(
                f"yunet needs OpenCV >= 4.8 with FaceDetectorYN, found {cv2.__version__}: "
                "pip install 'opencv-contrib-python-headless>=4.8,<5'"
            )
        self.score_threshold = score_threshold  # None: deepface's variable, read at every call
        path = weight_utils.download_weights_if_necessary(*WEIGHTS)
        self.model = cv2.FaceDetectorYN.create(path, "", (0, 0))
        self._lock = threading.Lock()  # FaceDetectorYN keeps its input size and threshold

    def detect_faces(self, img: NDArray[Any]) -> List[FacialAreaRegion]:
        factor = shrink_factor(img.shape[0], img.shape[1])
        if factor != 1.0:
            img = cv2.resize(img, (int(img.shape[1] * factor), int(img.shape[0] * factor)))
        with self._lock:
            self.model.setInputSize((img.shape[1], img.shape[0]))
            self.model.setScoreThreshold(resolve_threshold(self.score_threshold))
            _, rows = self.model.detect(np.ascontiguousarray(img))
        return regions_from_rows(rows, factor)
