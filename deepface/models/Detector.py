"""The detector interface and the dataclasses that carry faces through the pipeline."""

from abc import ABC, abstractmethod
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from numpy.typing import NDArray

Point = Tuple[int, int]


@dataclass
class FacialAreaRegion:
    """A detected face in the coordinates of the image the detector saw.

    ``left_eye`` and ``right_eye`` are from the person's point of view (the left eye
    appears on the right of the picture).
    """

    x: int
    y: int
    w: int
    h: int
    left_eye: Optional[Point] = None
    right_eye: Optional[Point] = None
    confidence: Optional[float] = None
    nose: Optional[Point] = None
    mouth_right: Optional[Point] = None
    mouth_left: Optional[Point] = None


@dataclass
class DetectedFace:
    """A face crop (BGR, aligned when asked) and its region in the original image; with
    anti-spoofing, the verdict of the Fasnet models on it."""

    img: NDArray[Any]
    facial_area: FacialAreaRegion
    confidence: float
    is_real: Optional[bool] = None
    antispoof_score: Optional[float] = None


class Detector(ABC):
    """A face detector.

    Subclasses implement :meth:`detect_faces`. Those whose engine can run several images
    in one forward pass override :meth:`detect_faces_batch`; its result must equal calling
    :meth:`detect_faces` on each image.
    """

    #: True when :meth:`detect_faces_batch` runs real batched inference (several images
    #: in one forward pass); detectors that can set it from their ``group_batch``.
    native_batch: bool = False
    #: The most pixels (after deepface's detection border) the engine can take without
    #: crashing the process; ``None`` when it resizes its input or has no known limit.
    max_input_pixels: Optional[int] = None

    @abstractmethod
    def detect_faces(self, img: NDArray[Any]) -> List[FacialAreaRegion]:
        """Find the faces in one BGR image."""

    def detect_faces_batch(self, imgs: Sequence[NDArray[Any]]) -> List[List[FacialAreaRegion]]:
        """Find the faces in each of several BGR images: one list per image, in order."""
        return [self.detect_faces(img) for img in imgs]


def choose_group_batch(requested: Optional[int], on_gpu: bool, gpu_default: int) -> int:
    """How many equally shaped images a detector stacks into one forward pass.

    ``requested`` wins. Otherwise: ``gpu_default`` on a GPU, and 1 (a loop) on a CPU,
    where stacking measured slower (2 cores: yolov8n 16.6 img/s stacked against 21.4 in a
    loop; RetinaFace 0.90x with 2.8x the memory; mtcnn 0.63x).
    """
    if requested is not None:
        if requested < 1:
            raise ValueError(f"group_batch must be at least 1, not {requested}")
        return requested
    return gpu_default if on_gpu else 1


def equal_shape_batches(arrays: Sequence[NDArray[Any]], max_batch: int) -> Iterator[List[int]]:
    """Indices of ``arrays`` in batches of equal shape, at most ``max_batch`` each.

    The batching rule shared by the native detectors: only arrays of identical shape
    are stacked, so each one is processed exactly as it would be alone.
    """
    for indices in group_by_shape(arrays).values():
        for chunk in chunked(indices, max_batch):
            yield list(chunk)


def group_by_shape(imgs: Sequence[NDArray[Any]]) -> Dict[Tuple[int, ...], List[int]]:
    """Indices of ``imgs`` grouped by array shape, groups in order of first appearance."""
    groups: Dict[Tuple[int, ...], List[int]] = defaultdict(list)
    for index, img in enumerate(imgs):
        groups[tuple(img.shape)].append(index)
    return dict(groups)


def chunked(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of ``items`` of at most ``size`` elements."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    for start in range(0, len(items), size):
        yield items[start : start + size]
