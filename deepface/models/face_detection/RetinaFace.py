"""RetinaFace (the ``retina-face`` package's Keras network), with native batching.

The single-image path is retina-face's own ``detect_faces``, as in deepface. The batch
path preprocesses each image exactly as that call does (its own resize to 1024 px on
the short side, at most 1980 on the long one), stacks images whose tensors have the
same shape, runs one forward pass per stack, and decodes each image's outputs on its
own: anchors, score threshold, box and landmark regression, NMS.
"""

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from numpy.typing import NDArray

from deepface.commons.engines import import_tensorflow_safely
from deepface.models.Detector import Detector, FacialAreaRegion, choose_group_batch, equal_shape_batches
from deepface.commons.exceptions import MissingDependencyError

DEFAULT_THRESHOLD = 0.9  # deepface's
NMS_IOU = 0.4  # retina-face's
# Images per forward pass within a group of equally shaped tensors (each is ~1024x1980), on a GPU.
GPU_GROUP_BATCH = 8
ANCHORS_PER_CELL = 2
# Base anchors (x1, y1, x2, y2) of each pyramid level, keyed by stride, in output order.
BASE_ANCHORS: Dict[int, NDArray[np.float32]] = {
    32: np.array([[-248.0, -248.0, 263.0, 263.0], [-120.0, -120.0, 135.0, 135.0]], np.float32),
    16: np.array([[-56.0, -56.0, 71.0, 71.0], [-24.0, -24.0, 39.0, 39.0]], np.float32),
    8: np.array([[-8.0, -8.0, 23.0, 23.0], [0.0, 0.0, 15.0, 15.0]], np.float32),
}


@dataclass
class Prepared:
    """One image as the network takes it, and how to map results back."""

    tensor: NDArray[np.float32]  # (1, H, W, 3), RGB float
    shape: Tuple[int, int]  # (H, W) after resizing
    scale: float


class RetinaFaceClient(Detector):
    """RetinaFace with five landmarks (eyes, nose, mouth corners).

    Args:
        threshold: minimum face score (deepface uses 0.9).
        allow_upscaling: let small images be enlarged to 1024 px (retina-face's default).
        group_batch: equally shaped tensors per forward pass (8 on a GPU, 1 on a CPU).
    """

    def __init__(
        self,
        threshold: Optional[float] = None,
        allow_upscaling: bool = True,
        group_batch: Optional[int] = None,
    ) -> None:
        import_tensorflow_safely()
        try:
            from retinaface import RetinaFace as retinaface_api
            from retinaface.commons import postprocess, preprocess
        except ImportError as err:
            raise MissingDependencyError(
                "the retinaface detector needs retina-face, TensorFlow and tf-keras: "
                "pip install retina-face tensorflow && pip install --no-deps tf-keras"
            ) from err
        self._api = retinaface_api
        self._preprocess = preprocess
        self._postprocess = postprocess
        self.threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
        self.allow_upscaling = allow_upscaling
        import tensorflow as tf  # already imported by retina-face

        on_gpu = bool(tf.config.list_physical_devices("GPU"))
        self.group_batch = choose_group_batch(group_batch, on_gpu, GPU_GROUP_BATCH)
        self.native_batch = self.group_batch > 1
        self.model = retinaface_api.build_model()

    def detect_faces(self, img: NDArray[Any]) -> List[FacialAreaRegion]:
        found = self._api.detect_faces(
            img, threshold=self.threshold, model=self.model, allow_upscaling=self.allow_upscaling
        )
        if not isinstance(found, dict):
            return []
        return [
            _to_region(np.asarray(face["facial_area"]), face["score"], _landmarks_array(face))
            for face in found.values()
        ]

    def detect_faces_batch(self, imgs: Sequence[NDArray[Any]]) -> List[List[FacialAreaRegion]]:
        prepared = [self._prepare(img) for img in imgs]
        results: List[List[FacialAreaRegion]] = [[] for _ in imgs]
        for chunk in equal_shape_batches([item.tensor for item in prepared], self.group_batch):
            tensors = [prepared[i].tensor for i in chunk]
            batch = tensors[0] if len(tensors) == 1 else np.concatenate(tensors, axis=0)
            outputs = [np.asarray(out) for out in self.model(batch)]
            for row, index in enumerate(chunk):
                results[index] = self._decode([out[row : row + 1] for out in outputs], prepared[index])
        return results

    def _prepare(self, img: NDArray[Any]) -> Prepared:
        tensor, shape, scale = self._preprocess.preprocess_image(img, self.allow_upscaling)
        return Prepared(tensor=tensor, shape=tuple(shape), scale=scale)

    def _decode(self, outputs: List[NDArray[Any]], prepared: Prepared) -> List[FacialAreaRegion]:
        """Faces from one image's network outputs (three levels of score, box, landmarks)."""
        boxes, scores, landmarks = [], [], []
        for level, stride in enumerate(BASE_ANCHORS):
            level_scores, level_boxes, level_landmarks = outputs[3 * level : 3 * level + 3]
            kept = self._decode_level(stride, level_scores, level_boxes, level_landmarks, prepared)
            boxes.append(kept[0])
            scores.append(kept[1])
            landmarks.append(kept[2])
        boxes_all = np.vstack(boxes)
        if boxes_all.shape[0] == 0:
            return []
        scores_all = np.vstack(scores)
        order = scores_all.ravel().argsort()[::-1]
        candidates = np.hstack((boxes_all[order, 0:4], scores_all[order])).astype(np.float32, copy=False)
        landmarks_all = np.vstack(landmarks)[order].astype(np.float32, copy=False)
        keep = self._postprocess.cpu_nms(candidates, NMS_IOU)
        return [_to_region(candidates[k, 0:4], candidates[k, 4], landmarks_all[k]) for k in keep]

    def _decode_level(
        self,
        stride: int,
        scores: NDArray[Any],
        box_deltas: NDArray[Any],
        landmark_deltas: NDArray[Any],
        prepared: Prepared,
    ) -> Tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
        post = self._postprocess
        height, width = box_deltas.shape[1], box_deltas.shape[2]
        anchors = post.anchors_plane(height, width, stride, BASE_ANCHORS[stride]).reshape((-1, 4))
        face_scores = scores[:, :, :, ANCHORS_PER_CELL:].reshape((-1, 1))
        deltas = box_deltas.reshape((-1, box_deltas.shape[3] // ANCHORS_PER_CELL))
        boxes = post.clip_boxes(post.bbox_pred(anchors, deltas), prepared.shape)
        selected = np.where(face_scores.ravel() >= self.threshold)[0]
        boxes = boxes[selected, :]
        boxes[:, 0:4] /= prepared.scale
        points_per_anchor = landmark_deltas.shape[3] // ANCHORS_PER_CELL
        points = post.landmark_pred(
            anchors, landmark_deltas.reshape((-1, 5, points_per_anchor // 5))
        )[selected, :]
        points[:, :, 0:2] /= prepared.scale
        return boxes, face_scores[selected], points


def _landmarks_array(face: Dict[str, Any]) -> NDArray[Any]:
    marks = face["landmarks"]
    order = ("right_eye", "left_eye", "nose", "mouth_right", "mouth_left")
    return np.array([marks[name] for name in order], dtype=np.float32)


def _to_region(box: NDArray[Any], score: Any, landmarks: NDArray[Any]) -> FacialAreaRegion:
    """A region from a box (x1, y1, x2, y2), its score, and landmarks in retina-face's order.

    retina-face lists the picture's left eye first and calls it ``right_eye``, which is
    the person's right eye; deepface keeps those names.
    """
    x1, y1, x2, y2 = (int(v) for v in box[0:4].astype(int))

    def point(row: int) -> Tuple[int, int]:
        return int(landmarks[row][0]), int(landmarks[row][1])

    return FacialAreaRegion(
        x=x1,
        y=y1,
        w=x2 - x1,
        h=y2 - y1,
        right_eye=point(0),
        left_eye=point(1),
        nose=point(2),
        mouth_right=point(3),
        mouth_left=point(4),
        confidence=float(score),
    )
