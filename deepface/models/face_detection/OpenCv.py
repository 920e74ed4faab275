"""OpenCV Haar cascades: the frontal-face cascade finds faces, the eye cascade finds eyes."""

import os
import threading
from typing import Any, List, Optional, Tuple

import cv2
import numpy as np
from numpy.typing import NDArray

from deepface.commons import image_rules, weight_utils
from deepface.models.Detector import Detector, FacialAreaRegion, Point

FACE_CASCADE = "haarcascade_frontalface_default.xml"
EYE_CASCADE = "haarcascade_eye.xml"
# opencv 5 wheels ship no cascades; deepface falls back to this public copy.
CASCADE_URL = "https://github.com/opencv/opencv/raw/4.9.0/data/haarcascades/{file_name}"
#: deepface's names: the URL pattern, and the cascade files by model name.
HAARCASCADE_URL = CASCADE_URL
HAARCASCADE_FILES = {"haarcascade": FACE_CASCADE, "haarcascade_eye": EYE_CASCADE}

# deepface's detection parameters
FACE_SCALE_FACTOR = 1.1
FACE_MIN_NEIGHBORS = 10
EYE_SCALE_FACTOR = 1.1
EYE_MIN_NEIGHBORS = 10


def load_cascade(file_name: str) -> Any:
    """Load a Haar cascade shipped with opencv, or from the weights cache."""
    if not hasattr(cv2, "CascadeClassifier"):
        raise ImportError(
            f"opencv {cv2.__version__} has no CascadeClassifier; "
            "fix it with: pip install 'opencv-contrib-python-headless<5'"
        )
    path = os.path.join(os.path.dirname(cv2.__file__), "data", file_name)
    if not os.path.isfile(path):
        path = weight_utils.download_weights_if_necessary(
            file_name=file_name, source_url=CASCADE_URL.format(file_name=file_name)
        )
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise ValueError(f"could not load the Haar cascade at {path}")
    return cascade


class OpenCvClient(Detector):
    """deepface's default detector: Haar cascades for the face and for the eyes."""

    #: OpenCV's cascade crashes the process on larger inputs (measured: 17000x17000 runs,
    #: 18000x18000 segfaults in ``detectMultiScale3``; 8000x8000 already takes 13.6 GB).
    max_input_pixels = 2**28

    def __init__(self) -> None:
        self.face_cascade = load_cascade(FACE_CASCADE)
        self.eye_cascade = load_cascade(EYE_CASCADE)
        # A cascade is not safe to share between threads (wrong boxes, crashes); one lock
        # per cascade, so other detectors' eye look-ups do not wait for face detection.
        self._face_lock = threading.Lock()
        self._eye_lock = threading.Lock()

    def detect_faces(self, img: NDArray[Any]) -> List[FacialAreaRegion]:
        """Faces left to right (then top to bottom).

        OpenCV returns the cascade's faces in an order that depends on how its worker
        threads were scheduled, so deepface's order varies from run to run; sorting makes
        results reproducible without changing which faces are found.
        """
        regions = []
        for (x, y, w, h), score in sorted(self._detect_boxes(img)):
            left_eye, right_eye = self.find_eyes(img[y : y + h, x : x + w])
            regions.append(
                FacialAreaRegion(
                    x=x,
                    y=y,
                    w=w,
                    h=h,
                    left_eye=_offset(left_eye, x, y),
                    right_eye=_offset(right_eye, x, y),
                    # Haar scores are positive but unbounded; deepface maps them like this.
                    confidence=(100 - float(score)) / 100,
                )
            )
        return regions

    def _detect_boxes(self, img: NDArray[Any]) -> List[Tuple[Tuple[int, int, int, int], float]]:
        """The cascade's boxes (x, y, w, h) with their scores."""
        with self._face_lock:
            boxes, _, scores = self.face_cascade.detectMultiScale3(
                img, FACE_SCALE_FACTOR, FACE_MIN_NEIGHBORS, outputRejectLevels=True
            )
        return [
            (tuple(int(v) for v in box), float(score))
            for box, score in zip(boxes, np.ravel(scores))
        ]

    def find_eyes(self, face: NDArray[Any]) -> Tuple[Optional[Point], Optional[Point]]:
        """The centres of the two largest eyes in a face crop, as (left, right) of the person.

        Returns ``(None, None)`` when fewer than two eyes are found.
        """
        if face.shape[0] == 0 or face.shape[1] == 0:
            return None, None
        gray = cv2.cvtColor(image_rules.to_detector_pixels(face), cv2.COLOR_BGR2GRAY)
        with self._eye_lock:
            eyes = self.eye_cascade.detectMultiScale(gray, EYE_SCALE_FACTOR, EYE_MIN_NEIGHBORS)
        if len(eyes) < 2:
            return None, None
        first, second = sorted(eyes, key=lambda eye: abs(eye[2] * eye[3]), reverse=True)[:2]
        # The eye further left in the picture is the person's right eye.
        right, left = (first, second) if first[0] < second[0] else (second, first)
        return _centre(left), _centre(right)


def _centre(box: Any) -> Point:
    x, y, w, h = box
    return int(x + w / 2), int(y + h / 2)


def _offset(point: Optional[Point], dx: int, dy: int) -> Optional[Point]:
    return None if point is None else (int(point[0] + dx), int(point[1] + dy))
