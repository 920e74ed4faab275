"""MTCNN from the ``mtcnn`` package (1.0), with its shipped weights."""

import warnings
from typing import Any, Dict, List, Optional, Sequence

from numpy.typing import NDArray

from deepface.commons.engines import import_tensorflow_safely
from deepface.models.Detector import Detector, FacialAreaRegion, choose_group_batch, equal_shape_batches
from deepface.models.face_detection.mtcnn_windows import WindowedMtcnn
from deepface.commons.exceptions import MissingDependencyError

# Images per mtcnn call within a group of same-sized images. 1 (a loop) by default:
# on a 2-core CPU, 16 frames of 640x480 per call ran at 0.63x the loop's speed and took
# 2.7x its memory (docs/benchmarks.md), so grouping is opt-in until measured faster.
DEFAULT_GROUP_BATCH = 1


class MtCnnClient(Detector):
    """MTCNN (P-Net, R-Net, O-Net) with mtcnn's default thresholds.

    Batching: mtcnn pads a batch to its largest image and builds one pyramid from it,
    which changes the answers for smaller images. Only images of identical shape are
    sent together, so each one is processed exactly as it would be alone.

    Args:
        group_batch: how many same-shaped images go into one mtcnn call; the default, 1,
            loops, which measured faster on CPU.
        skip_black_windows: run P-Net only where windows meet non-black pixels (see
            :mod:`mtcnn_windows`); the same faces, much less work on deepface's bordered
            images. Grouped calls (``group_batch`` > 1) use mtcnn's full scan.
    """

    def __init__(self, group_batch: int = DEFAULT_GROUP_BATCH, skip_black_windows: bool = True) -> None:
        self.group_batch = choose_group_batch(group_batch, on_gpu=False, gpu_default=1)
        self.native_batch = self.group_batch > 1
        import_tensorflow_safely()
        try:
            from mtcnn import MTCNN
        except ImportError as err:
            raise MissingDependencyError(
                "the mtcnn detector needs the mtcnn package and TensorFlow: "
                "pip install mtcnn tensorflow"
            ) from err
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            self.model = MTCNN()
        self.windowed: Optional[WindowedMtcnn] = None
        if skip_black_windows:
            windowed = WindowedMtcnn(self.model)
            self.windowed = windowed if windowed.enabled else None

    def detect_faces(self, img: NDArray[Any]) -> List[FacialAreaRegion]:
        if self.windowed is not None:
            return [_to_region(detection) for detection in self.windowed.detect_faces(img)]
        detections = self.model.detect_faces(img[:, :, ::-1])  # mtcnn expects RGB
        return [_to_region(detection) for detection in detections or []]

    def detect_faces_batch(self, imgs: Sequence[NDArray[Any]]) -> List[List[FacialAreaRegion]]:
        results: List[List[FacialAreaRegion]] = [[] for _ in imgs]
        for chunk in equal_shape_batches(imgs, self.group_batch):
            if len(chunk) == 1:
                results[chunk[0]] = self.detect_faces(imgs[chunk[0]])
                continue
            per_image = self.model.detect_faces([imgs[i][:, :, ::-1] for i in chunk])
            for index, detections in zip(chunk, per_image):
                results[index] = [_to_region(d) for d in detections]
        return results


def _to_region(detection: Dict[str, Any]) -> FacialAreaRegion:
    x, y, w, h = detection["box"]
    keypoints = detection["keypoints"]
    return FacialAreaRegion(
        x=x,
        y=y,
        w=w,
        h=h,
        # mtcnn names eyes from the observer's side; deepface names them from the person's.
        left_eye=keypoints["right_eye"],
        right_eye=keypoints["left_eye"],
        confidence=detection["confidence"],
    )
