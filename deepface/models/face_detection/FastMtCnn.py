"""facenet-pytorch's MTCNN ("fastmtcnn"), with its shipped weights."""

from typing import Any, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from numpy.typing import NDArray

from deepface.models.Detector import Detector, FacialAreaRegion, choose_group_batch, equal_shape_batches
from deepface.commons.exceptions import MissingDependencyError

GPU_GROUP_BATCH = 32


def resolve_device(device: Optional[str]) -> str:
    """``device`` if given, else the first CUDA GPU when there is one, else the CPU."""
    import torch

    if device is not None:
        return device
    return "cuda:0" if torch.cuda.is_available() else "cpu"


class FastMtCnnClient(Detector):
    """MTCNN on torch. Batching: facenet-pytorch stacks a batch, so only images of
    identical shape go together (it refuses mixed sizes); each group is one call.

    Args:
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"``; default: the GPU when there is one.
        group_batch: equally shaped images per call (32 on a GPU, 1 on a CPU).
    """

    def __init__(self, device: Optional[str] = None, group_batch: Optional[int] = None) -> None:
        try:
            from facenet_pytorch import MTCNN
        except ImportError as err:
            raise MissingDependencyError(
                "the fastmtcnn detector needs facenet-pytorch, which pins old torch and numpy: "
                "pip install --no-deps facenet-pytorch (torch is needed too)"
            ) from err
        self.device = resolve_device(device)
        self.group_batch = choose_group_batch(group_batch, self.device.startswith("cuda"), GPU_GROUP_BATCH)
        self.native_batch = self.group_batch > 1
        self.model = MTCNN(device=self.device)

    def detect_faces(self, img: NDArray[Any]) -> List[FacialAreaRegion]:
        boxes, probs, points = self.model.detect(_to_rgb(img), landmarks=True)
        return _to_regions(boxes, probs, points)

    def detect_faces_batch(self, imgs: Sequence[NDArray[Any]]) -> List[List[FacialAreaRegion]]:
        results: List[List[FacialAreaRegion]] = [[] for _ in imgs]
        for chunk in equal_shape_batches(imgs, self.group_batch):
            stack = np.stack([_to_rgb(imgs[i]) for i in chunk])
            boxes, probs, points = self.model.detect(stack, landmarks=True)
            for row, index in enumerate(chunk):
                results[index] = _to_regions(boxes[row], probs[row], points[row])
        return results


def xyxy_to_xywh(regions: Sequence[float]) -> Tuple[int, int, int, int]:
    """A box ``(x1, y1, x2, y2)`` as ``(x, y, w, h)`` in whole pixels (deepface's helper)."""
    x1, y1, x2, y2 = regions[:4]
    return int(x1), int(y1), int(x2 - x1), int(y2 - y1)


def _to_rgb(img: NDArray[Any]) -> NDArray[np.uint8]:
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB).astype(np.uint8)


def _to_regions(boxes: Any, probs: Any, points: Any) -> List[FacialAreaRegion]:
    if boxes is None or probs is None or points is None:
        return []
    regions = []
    for box, prob, marks in zip(boxes, probs, points):
        x, y, w, h = xyxy_to_xywh(box)
        regions.append(
            FacialAreaRegion(
                x=x, y=y, w=w, h=h,
                # landmark 0 is on the picture's left: the person's right eye
                right_eye=(int(marks[0][0]), int(marks[0][1])),
                left_eye=(int(marks[1][0]), int(marks[1][1])),
                confidence=float(prob),
            )
        )
    return regions
