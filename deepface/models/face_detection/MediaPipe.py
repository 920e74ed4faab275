"""Google MediaPipe's face detector (0.10.14, model shipped in the package); loops."""

import os
import threading
from typing import Any, List, Optional

from numpy.typing import NDArray

from deepface.commons.engines import patch_protobuf_for_mediapipe
from deepface.models.Detector import Detector, FacialAreaRegion
from deepface.commons.exceptions import MissingDependencyError

CONFIDENCE_ENV = "MEDIAPIPE_MIN_DETECTION_CONFIDENCE"
MODEL_ENV = "MEDIAPIPE_MODEL_SELECTION"
DEFAULT_CONFIDENCE = 0.7
DEFAULT_MODEL = 0  # short range


class MediaPipeClient(Detector):
    """MediaPipe face detection. Keywords win over deepface's environment variables.

    Args:
        min_confidence: detection threshold (else ``$MEDIAPIPE_MIN_DETECTION_CONFIDENCE``, 0.7).
        model_selection: 0 short range, 1 full range (else ``$MEDIAPIPE_MODEL_SELECTION``, 0).
    """

    def __init__(self, min_confidence: Optional[float] = None, model_selection: Optional[int] = None) -> None:
        patch_protobuf_for_mediapipe()
        try:
            import mediapipe as mp
        except ImportError as err:
            raise MissingDependencyError(
                "the mediapipe detector needs mediapipe 0.10.14: pip install --no-deps "
                "mediapipe==0.10.14 attrs (its protobuf pin clashes with TensorFlow's)"
            ) from err
        self.min_confidence = float(min_confidence if min_confidence is not None
                                    else os.environ.get(CONFIDENCE_ENV, DEFAULT_CONFIDENCE))
        self.model_selection = int(model_selection if model_selection is not None
                                   else os.environ.get(MODEL_ENV, DEFAULT_MODEL))
        self.model = mp.solutions.face_detection.FaceDetection(
            min_detection_confidence=self.min_confidence, model_selection=self.model_selection
        )
        self._lock = threading.Lock()  # a mediapipe solution graph runs one image at a time

    def detect_faces(self, img: NDArray[Any]) -> List[FacialAreaRegion]:
        # deepface hands mediapipe the BGR image as it is; so does this package, so that
        # it finds the same faces.
        with self._lock:
            found = self.model.process(img)
        if found.detections is None:
            return []
        height, width = img.shape[:2]
        return [_to_region(detection, width, height) for detection in found.detections]


def _to_region(detection: Any, width: int, height: int) -> FacialAreaRegion:
    box = detection.location_data.relative_bounding_box
    points = detection.location_data.relative_keypoints

    def pixel(k: int) -> tuple:
        return int(points[k].x * width), int(points[k].y * height)

    (score,) = detection.score
    return FacialAreaRegion(
        x=int(box.xmin * width), y=int(box.ymin * height),
        w=int(box.width * width), h=int(box.height * height),
        right_eye=pixel(0),  # keypoint 0 is on the picture's left: the person's right eye
        left_eye=pixel(1),
        confidence=float(score),
    )
