"""OpenCV DNN's res10 300x300 SSD face detector (Caffe), batched.

Every image is resized to 300x300, so any batch stacks into one blob and runs as one
forward pass; the detection rows carry their image's index in the blob.
"""

import threading
from typing import Any, List, Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from deepface.commons import weight_utils
from deepface.models.Detector import Detector, FacialAreaRegion, chunked
from deepface.commons.exceptions import MissingDependencyError

PROTOTXT = ("deploy.prototxt",
            "https://github.com/opencv/opencv/raw/3.4.0/samples/dnn/face_detector/deploy.prototxt")
CAFFEMODEL = ("res10_300x300_ssd_iter_140000.caffemodel",
              "https://github.com/opencv/opencv_3rdparty/raw/dnn_samples_face_detector_20170830/"
              "res10_300x300_ssd_iter_140000.caffemodel")
MODEL_URL, WEIGHTS_URL = PROTOTXT[1], CAFFEMODEL[1]  # deepface's names
INPUT_SIZE = 300
MIN_CONFIDENCE = 0.90  # deepface's
MAX_BATCH = 64
# columns of a detection row
IMAGE_ID, LABEL, SCORE, LEFT, TOP, RIGHT, BOTTOM = range(7)


def decode_detections(rows: NDArray[Any], image_id: int, width: int, height: int) -> List[FacialAreaRegion]:
    """The faces of one image from SSD detection rows (image id, label, score, box in 0..1).

    Coordinates are truncated to the 300 px grid and then scaled to the image, as
    deepface does.
    """
    mine = rows[(rows[:, IMAGE_ID] == image_id) & (rows[:, LABEL] == 1) & (rows[:, SCORE] >= MIN_CONFIDENCE)]
    boxes = np.int32(mine[:, LEFT : BOTTOM + 1] * INPUT_SIZE).astype(mine.dtype)
    scale = np.array([width, height, width, height], dtype=np.float64) / INPUT_SIZE
    boxes = np.int32(boxes * scale)
    return [
        FacialAreaRegion(x=int(x1), y=int(y1), w=int(x2 - x1), h=int(y2 - y1), confidence=float(score))
        for (x1, y1, x2, y2), score in zip(boxes, mine[:, SCORE])
    ]


class SsdClient(Detector):
    """res10 SSD; no landmarks (deepface finds eyes with the OpenCV eye cascade)."""

    native_batch = True

    def __init__(self) -> None:
        if int(cv2.__version__.split(".")[0]) >= 5:
            raise MissingDependencyError(
                f"ssd needs OpenCV 4 (5 dropped Caffe models), found {cv2.__version__}: "
                "pip install 'opencv-contrib-python-headless<5'"
            )
        prototxt = weight_utils.download_weights_if_necessary(*PROTOTXT)
        weights = weight_utils.download_weights_if_necessary(*CAFFEMODEL)
        self.model = cv2.dnn.readNetFromCaffe(prototxt, weights)
        self._lock = threading.Lock()  # an OpenCV net holds its input between calls

    def detect_faces(self, img: NDArray[Any]) -> List[FacialAreaRegion]:
        return self.detect_faces_batch([img])[0]

    def detect_faces_batch(self, imgs: Sequence[NDArray[Any]]) -> List[List[FacialAreaRegion]]:
        results: List[List[FacialAreaRegion]] = []
        for chunk in chunked(list(imgs), MAX_BATCH):
            resized = [cv2.resize(img.astype(np.uint8, copy=False), (INPUT_SIZE, INPUT_SIZE)) for img in chunk]
            blob = cv2.dnn.blobFromImages(resized)
            with self._lock:
                self.model.setInput(blob)
                rows = self.model.forward()[0][0]
            results.extend(
                decode_detections(rows, k, img.shape[1], img.shape[0]) for k, img in enumerate(chunk)
            )
        return results
