"""MTCNN that skips the P-Net windows lying wholly in a black frame, answers unchanged.

deepface pads each image with a black border (half its size on every side) before
detecting, so three quarters of the pixels MTCNN's P-Net scans are exactly black.
P-Net is fully convolutional: each output cell sees one 12x12 window of the scaled image
(stride 2). A window whose pixels are all the same black value gives the same score as
any other such window. When that score is below P-Net's threshold (checked once, with a
safety margin, when the detector is built), those windows can never yield a candidate,
so P-Net is run only on the part of each pyramid level that overlaps the non-black
content, and only that window of each level is resized (:mod:`area_resize`, the same
floats). P-Net's NMS is computed in blocks (:func:`overlap_nms`, the same boxes kept),
the normalised image is made once, in float32, by TensorFlow (:func:`normalized_tensor`,
the same values), and the networks run layer by layer (:mod:`mtcnn_networks`, the same
operations). Everything else (the pyramid, thresholds, R-Net and O-Net's stages, the
output) is mtcnn 1.0's own code, called here stage by stage.
"""

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from numpy.typing import NDArray

from deepface.models.face_detection.area_resize import AreaResizer, normalized_tensor, resized_shape
from deepface.models.face_detection.mtcnn_networks import layer_chain_for, with_layer_chain

#: P-Net's window and stride, in pixels of a pyramid level.
WINDOW = 12
STRIDE = 2
#: Extra pixels of scaled image treated as content on each side: area resampling mixes
#: black and content pixels across the content's edge.
RESAMPLE_MARGIN = 2
#: How far below the threshold the all-black score must be to skip black windows.
SCORE_MARGIN = 0.1
PNET_DEFAULTS = {"min_face_size": 20, "scale_factor": 0.709, "threshold_pnet": 0.6,
                 "nms_pnet1": 0.5, "nms_pnet2": 0.7}


@dataclass(frozen=True)
class ContentBox:
    """Rows [top, bottom) and columns [left, right) holding every non-black pixel."""

    top: int
    bottom: int
    left: int
    right: int


def content_box(img: NDArray[Any]) -> Optional[ContentBox]:
    """The smallest box holding every pixel that is not exactly black; None if there is none.

    Rows are tested as flat runs of bytes and columns only within the lit rows: a
    per-pixel ``any`` over the channel axis is ~50x slower on a bordered photo.
    """
    rows = np.flatnonzero(img.reshape(img.shape[0], -1).any(axis=1))
    if rows.size == 0:
        return None
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    lit_columns = img[top:bottom].any(axis=0)
    if lit_columns.ndim == 2:  # (width, channels)
        lit_columns = lit_columns.any(axis=1)
    cols = np.flatnonzero(lit_columns)
    return ContentBox(top, bottom, int(cols[0]), int(cols[-1]) + 1)


def window_span(start: float, stop: float, size: int) -> Tuple[int, int]:
    """The slice [lo, hi) of a pyramid level of length ``size`` that P-Net must scan so
    that every window overlapping [start, stop) is computed exactly as on the whole level.

    ``lo`` is even, so the crop's cells line up with the level's; ``hi`` is the level's end
    or leaves an even length, so the crop's max-pooling needs no padding.
    """
    start = max(0, int(np.floor(start)) - RESAMPLE_MARGIN)
    stop = min(size, int(np.ceil(stop)) + RESAMPLE_MARGIN)
    first_cell = max(0, (start - WINDOW + 1 + 1) // STRIDE)  # first window ending after start
    lo = first_cell * STRIDE
    hi = min(size, stop + WINDOW - 1)
    if hi < size and (hi - lo) % 2:
        hi += 1
    return lo, hi


def overlap_nms(boxes: NDArray[Any], threshold: float, initial_sort: bool = True,
                block: int = 256) -> NDArray[Any]:
    """mtcnn's NMS for one image's rows (image id, x1, y1, x2, y2, score), computed in blocks.

    mtcnn drops a box when any box before it (in score order) overlaps it by more than
    ``threshold``, suppressed or not. It builds the full n x n IoU matrix to decide that;
    this computes the same ratios with the same arithmetic, one block of rows at a time
    and only for pairs i < j: the same boxes kept, 5x to 35x faster for thousands of
    P-Net proposals.
    """
    if initial_sort:
        boxes = boxes[np.argsort(boxes[:, 5])[::-1]]
    count = boxes.shape[0]
    corners = boxes[:, 1:5]
    area = (corners[:, 2] - corners[:, 0]) * (corners[:, 3] - corners[:, 1])
    suppressed = np.zeros(count, dtype=bool)
    for first in range(0, count, block):
        last = min(count, first + block)
        earlier, later = corners[first:last, None, :], corners[None, first + 1 :, :]
        inter = (
            np.maximum(0, np.minimum(earlier[..., 2], later[..., 2]) - np.maximum(earlier[..., 0], later[..., 0]))
            * np.maximum(0, np.minimum(earlier[..., 3], later[..., 3]) - np.maximum(earlier[..., 1], later[..., 1]))
        )
        with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 is NaN, as in mtcnn: no overlap
            ratio = inter / (area[first:last, None] + area[None, first + 1 :] - inter)
        before = np.arange(first, last)[:, None] < np.arange(first + 1, count)[None, :]
        suppressed[first + 1 :] |= ((ratio > threshold) & before).any(axis=0)
    return boxes[~suppressed]


class WindowedMtcnn:
    """Runs an ``mtcnn.MTCNN``'s stages on one BGR image, P-Net on the content only."""

    def __init__(self, mtcnn: Any, window_resize: bool = True) -> None:
        import tensorflow as tf
        from mtcnn.utils import bboxes as bbox_utils
        from mtcnn.utils import images as image_utils

        self._tf = tf
        self._bboxes = bbox_utils
        self._images = image_utils
        self._mtcnn = mtcnn
        self._pnet = layer_chain_for(mtcnn.stages[0].model)
        self._later_stages = [with_layer_chain(stage) for stage in mtcnn.stages[1:]]
        # Resizes only the window P-Net scans at each level (TensorFlow's arithmetic,
        # checked equal); None: TensorFlow resizes the whole level, then it is cropped.
        self.resizer = AreaResizer.create(tf) if window_resize else None
        self.black_score = self._score_of_black()
        self.enabled = self.black_score < PNET_DEFAULTS["threshold_pnet"] - SCORE_MARGIN

    def _score_of_black(self) -> float:
        """P-Net's face score for an all-black window, normalised as mtcnn normalises."""
        black = self._images.normalize_images(np.zeros((1, WINDOW, WINDOW, 3), np.float32))
        _, scores = self._pnet(black)
        return float(np.asarray(scores)[0, 0, 0, 1])

    def detect_faces(self, bgr: NDArray[Any]) -> List[Dict[str, Any]]:
        """The faces of one BGR image, as ``mtcnn.MTCNN.detect_faces`` returns them for its
        RGB version (the channels are swapped by TensorFlow, not copied by numpy)."""
        box = content_box(bgr)
        if box is None:
            return []  # every window is black: P-Net proposes nothing
        tf = self._tf
        shapes = np.asarray([bgr.shape])  # what mtcnn's pad_stack_np gives for one image
        pad_param = np.zeros((1, 3, 2), dtype=int)
        with tf.device(self._mtcnn.device):
            normalized = normalized_tensor(tf, bgr, reverse_channels=True)
            try:
                found = self._proposals(bgr, normalized, box)
                for stage in self._later_stages:
                    found = stage(bboxes_batch=found, images_normalized=normalized, images_oshapes=shapes)
            except tf.errors.InvalidArgumentError:  # mtcnn's own signal for "no face"
                return []
        found = self._bboxes.fix_bboxes_offsets(found, pad_param)
        found = self._bboxes.limit_bboxes(found, images_shapes=shapes, limit_landmarks=False)
        return self._bboxes.to_json(found, images_count=1, output_as_width_height=True,
                                    input_as_width_height=False)[0]

    def _proposals(self, bgr: NDArray[Any], normalized: Any, box: ContentBox) -> NDArray[Any]:
        """P-Net's candidates over the pyramid, scanning only windows that meet the content."""
        b = self._bboxes
        height, width = bgr.shape[:2]
        scales = self._images.build_scale_pyramid(
            width, height, min_face_size=PNET_DEFAULTS["min_face_size"],
            scale_factor=PNET_DEFAULTS["scale_factor"],
        )
        per_scale = []
        for scale in scales:
            level_shape = resized_shape(self._tf, (height, width), scale)
            rows = window_span(box.top * scale, box.bottom * scale, level_shape[0])
            cols = window_span(box.left * scale, box.right * scale, level_shape[1])
            regression, scores = self._pnet(self._level_window(bgr, normalized, scale, level_shape, rows, cols))
            found = b.generate_bounding_box(regression, scores, PNET_DEFAULTS["threshold_pnet"])
            found[:, [1, 3]] += cols[0]  # back to the level's coordinates
            found[:, [2, 4]] += rows[0]
            found = b.upscale_bboxes(found, np.asarray([scale]))
            per_scale.append(overlap_nms(found, PNET_DEFAULTS["nms_pnet1"], initial_sort=False))
        found = np.concatenate(per_scale, axis=0) if per_scale else np.empty((0, 6))
        return b.resize_to_square(overlap_nms(found, PNET_DEFAULTS["nms_pnet2"], initial_sort=True))

    def _level_window(self, bgr: NDArray[Any], normalized: Any, scale: float, level_shape: Tuple[int, int],
                      rows: Tuple[int, int], cols: Tuple[int, int]) -> Any:
        """Rows and columns of one pyramid level, as mtcnn's ``scale_images`` computes them."""
        if self.resizer is not None:
            window = self.resizer.window(bgr, level_shape, rows, cols, reverse_channels=True)
            return self._tf.constant(window[None])
        level = self._images.scale_images(normalized, scale)
        assert tuple(level.shape[1:3]) == level_shape, "pyramid level of an unexpected size"
        return level[:, rows[0] : rows[1], cols[0] : cols[1], :]
