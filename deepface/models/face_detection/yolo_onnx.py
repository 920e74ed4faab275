"""YOLO face models on onnxruntime: exported once from the same weights, cached beside them.

Pre- and post-processing are ultralytics' own (its letterbox, NMS and coordinate scaling),
so only the network's engine changes: the same images reach it, and its raw outputs are
turned into faces as ultralytics' predictor turns them.
"""

import os
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence

import numpy as np
from numpy.typing import NDArray

from deepface.commons.logger import get_logger
from deepface.commons.exceptions import MissingDependencyError

logger = get_logger(__name__)

IMAGE_SIZE = 640  # ultralytics' default predict size
STRIDE = 32
NMS_IOU = 0.7  # ultralytics' default
MAX_DETECTIONS = 300  # ultralytics' default
FACE_KEYPOINTS = (5, 3)


@dataclass
class Detections:
    """One image's faces: centre boxes (cx, cy, w, h), scores, keypoints (x, y) or None."""

    xywh: NDArray[np.float32]
    confidence: NDArray[np.float32]
    keypoints: Optional[NDArray[np.float32]]


def export_onnx(weights_path: str) -> str:
    """The ONNX file beside ``weights_path`` (``x.pt`` -> ``x.onnx``), exported once."""
    target = os.path.splitext(weights_path)[0] + ".onnx"
    if os.path.isfile(target):
        return target
    try:
        import onnx  # noqa: F401  (ultralytics' exporter needs it; it would try to pip install it)
        from ultralytics import YOLO
    except ImportError as err:
        raise MissingDependencyError(
            "the onnx engine exports the model once with ultralytics and onnx: pip install onnx onnxruntime"
        ) from err
    logger.info("exporting %s to ONNX (once)", weights_path)
    exported = YOLO(weights_path).export(format="onnx", dynamic=True, simplify=False, verbose=False)
    if os.path.abspath(str(exported)) != os.path.abspath(target):
        os.replace(str(exported), target)
    return target


class OnnxYolo:
    """Runs a YOLO face model exported to ONNX, as ultralytics' predictor would run it."""

    def __init__(self, weights_path: str, has_keypoints: bool) -> None:
        try:
            import onnxruntime
            import torch
            from ultralytics.data.augment import LetterBox
            from ultralytics.utils import nms, ops
        except ImportError as err:
            raise MissingDependencyError(
                "the onnx engine needs onnxruntime beside ultralytics: pip install onnxruntime"
            ) from err
        self._torch, self._nms, self._ops = torch, nms, ops
        self.session = onnxruntime.InferenceSession(export_onnx(weights_path), providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.letterbox = LetterBox((IMAGE_SIZE, IMAGE_SIZE), auto=True, stride=STRIDE)
        self.has_keypoints = has_keypoints

    def predict(self, imgs: Sequence[NDArray[Any]], min_confidence: float) -> List[Detections]:
        """Detections for images of one shape, in one forward pass."""
        boxed = np.stack([self.letterbox(image=img) for img in imgs])
        tensor = np.ascontiguousarray(boxed[..., ::-1].transpose(0, 3, 1, 2)).astype(np.float32) / 255
        (raw,) = self.session.run(None, {self.input_name: tensor})[:1]
        kept = self._nms.non_max_suppression(
            self._torch.from_numpy(raw), min_confidence, NMS_IOU,
            max_det=MAX_DETECTIONS, nc=1,
        )
        return [self._detections(pred, tensor.shape[2:], img.shape) for pred, img in zip(kept, imgs)]

    def _detections(self, pred: Any, input_shape: Any, image_shape: Any) -> Detections:
        ops = self._ops
        boxes = ops.scale_boxes(input_shape, pred[:, :4].clone(), image_shape)
        keypoints = None
        if self.has_keypoints:
            points = pred[:, 6:].view(pred.shape[0], *FACE_KEYPOINTS)
            keypoints = ops.scale_coords(input_shape, points, image_shape)[..., :2].numpy()
        return Detections(
            xywh=ops.xyxy2xywh(boxes).numpy(), confidence=pred[:, 4].numpy(), keypoints=keypoints
        )
