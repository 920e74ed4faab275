"""CenterFace (ONNX through OpenCV DNN): a heatmap of face centres with sizes and landmarks.

Loops: the published ONNX file's batch dimension could not be checked here (no weights
offline), so each image is its own forward pass.
"""

import os
import threading
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

import cv2
import numpy as np
from numpy.typing import NDArray

from deepface.commons import weight_utils
from deepface.models.Detector import Detector, FacialAreaRegion

WEIGHTS = ("centerface.onnx", "https://github.com/Star-Clouds/CenterFace/raw/master/models/onnx/centerface.onnx")
WEIGHTS_URL = WEIGHTS[1]  # deepface's name
THRESHOLD_ENV = "CENTERFACE_THRESHOLD"
DEFAULT_THRESHOLD = 0.35  # deepface's
NMS_IOU = 0.3
OUTPUT_STRIDE = 4
INPUT_MULTIPLE = 32
OUTPUTS = ["537", "538", "539", "540"]  # heatmap, scale, offset, landmarks


@dataclass(frozen=True)
class InputGeometry:
    """The network's input size for an image, and the factors from image to input."""

    height: int
    width: int
    scale_h: float
    scale_w: float

    @classmethod
    def for_image(cls, height: int, width: int) -> "InputGeometry":
        new_h = int(np.ceil(height / INPUT_MULTIPLE) * INPUT_MULTIPLE)
        new_w = int(np.ceil(width / INPUT_MULTIPLE) * INPUT_MULTIPLE)
        return cls(new_h, new_w, new_h / height, new_w / width)


def decode(heatmap: NDArray[Any], scale: NDArray[Any], offset: NDArray[Any],
           landmarks: NDArray[Any], geometry: InputGeometry, threshold: float
           ) -> Tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Boxes (x1, y1, x2, y2, score) and landmarks (x, y of five points) in image pixels."""
    heat = np.squeeze(heatmap)
    ys, xs = np.where(heat > threshold)
    if ys.size == 0:
        return np.empty((0, 5), np.float32), np.empty((0, 10), np.float32)
    box_h = np.exp(scale[0, 0, ys, xs]) * OUTPUT_STRIDE
    box_w = np.exp(scale[0, 1, ys, xs]) * OUTPUT_STRIDE
    x1 = np.maximum(0, (xs + offset[0, 1, ys, xs] + 0.5) * OUTPUT_STRIDE - box_w / 2)
    y1 = np.maximum(0, (ys + offset[0, 0, ys, xs] + 0.5) * OUTPUT_STRIDE - box_h / 2)
    x1, y1 = np.minimum(x1, geometry.width), np.minimum(y1, geometry.height)
    boxes = np.stack([x1, y1, np.minimum(x1 + box_w, geometry.width),
                      np.minimum(y1 + box_h, geometry.height), heat[ys, xs]], axis=1).astype(np.float32)
    points = np.empty((ys.size, 10), np.float64)
    for k in range(5):
        points[:, 2 * k] = landmarks[0, 2 * k + 1, ys, xs] * box_w + x1
        points[:, 2 * k + 1] = landmarks[0, 2 * k, ys, xs] * box_h + y1
    keep = greedy_nms(boxes[:, :4], boxes[:, 4], NMS_IOU)
    boxes, points = boxes[keep], points[keep].astype(np.float32)
    boxes[:, 0:4:2] /= geometry.scale_w
    boxes[:, 1:4:2] /= geometry.scale_h
    points[:, 0::2] /= geometry.scale_w
    points[:, 1::2] /= geometry.scale_h
    return boxes, points


def greedy_nms(boxes: NDArray[Any], scores: NDArray[Any], iou_threshold: float) -> List[int]:
    """Indices kept by greedy NMS, best score first; areas count pixels inclusively (+1)."""
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = list(np.argsort(scores)[::-1])
    keep: List[int] = []
    while order:
        best, rest = order[0], np.asarray(order[1:], dtype=int)
        keep.append(int(best))
        if rest.size == 0:
            break
        inter_w = np.maximum(0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1)
        inter_h = np.maximum(0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1)
        inter = inter_w * inter_h
        overlap = inter / (areas[best] + areas[rest] - inter)
        order = [int(j) for j, o in zip(rest, overlap) if o < iou_threshold]
    return keep


def current_threshold(threshold: Optional[float]) -> float:
    """The keyword if given, else ``$CENTERFACE_THRESHOLD`` (read now, as deepface does), else 0.35."""
    return float(threshold if threshold is not None else os.getenv(THRESHOLD_ENV, str(DEFAULT_THRESHOLD)))


class CenterFace:
    """The network (deepface's ``CenterFace`` class): ``forward`` gives one image's boxes
    ``(x1, y1, x2, y2, score)`` and landmarks (x, y of five points) in its pixels."""

    def __init__(self, weight_path: str) -> None:
        self.net = cv2.dnn.readNetFromONNX(weight_path)
        self._lock = threading.Lock()  # an OpenCV net holds its input between calls

    def forward(
        self, img: NDArray[Any], height: int, width: int, threshold: float = 0.5
    ) -> Tuple[NDArray[np.float32], NDArray[np.float32]]:
        geometry = InputGeometry.for_image(height, width)
        blob = cv2.dnn.blobFromImage(img, scalefactor=1.0, size=(geometry.width, geometry.height),
                                     mean=(0, 0, 0), swapRB=True, crop=False)
        with self._lock:
            self.net.setInput(blob)
            heatmap, scale, offset, landmarks = self.net.forward(OUTPUTS)
        return decode(heatmap, scale, offset, landmarks, geometry, threshold)


class CenterFaceClient(Detector):
    """CenterFace. Args: ``threshold`` (else ``$CENTERFACE_THRESHOLD``, else 0.35)."""

    def __init__(self, threshold: Optional[float] = None) -> None:
        self.threshold = threshold  # None: deepface's variable, read at every call
        self.model = CenterFace(weight_utils.download_weights_if_necessary(*WEIGHTS))

    def detect_faces(self, img: NDArray[Any]) -> List[FacialAreaRegion]:
        height, width = img.shape[:2]
        boxes, points = self.model.forward(img, height, width, current_threshold(self.threshold))
        return regions_from_decoded(boxes, points)


def regions_from_decoded(boxes: NDArray[Any], points: NDArray[Any]) -> List[FacialAreaRegion]:
    """Regions from decoded boxes and landmarks (first point: the person's right eye)."""
    return [
        FacialAreaRegion(
            x=int(x1), y=int(y1), w=int(x2 - x1), h=int(y2 - y1),
            right_eye=(int(marks[0]), int(marks[1])), left_eye=(int(marks[2]), int(marks[3])),
            confidence=min(max(0.0, float(score)), 1.0),
        )
        for (x1, y1, x2, y2, score), marks in zip(boxes, points)
    ]
