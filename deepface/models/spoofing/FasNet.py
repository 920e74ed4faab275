"""deepface's ``Fasnet`` anti-spoofing model, batched.

Two MiniFASNets judge each face: MiniFASNetV2 on the face box enlarged 2.7 times and
MiniFASNetV1SE on it enlarged 4 times, both cut from the original image and resized to
80x80, fed as BGR pixels in ``[0, 255]``. Their softmax outputs are summed: the face is
real when the class with the largest sum is class 1, and the score is that sum halved.
A batch runs each network once over all its faces; each face's result is the one it
gets alone.
"""

from dataclasses import dataclass
from typing import Any, Callable, List, Sequence, Tuple

import numpy as np
from numpy.typing import NDArray

from deepface.commons.logger import get_logger
from deepface.models.facial_recognition.keras_base import compiled_inference, load_keras_weights
from deepface.models.spoofing import FasNetBackbone
from deepface.models.spoofing.FasNetUtils import Box, check_image, crop, softmax

logger = get_logger(__name__)

FIRST_WEIGHT_FILE = "2.7_80x80_MiniFASNetV2.h5"
FIRST_WEIGHTS_URL = [
    "https://github.com/serengil/deepface_models/releases/download/v1.0/2.7_80x80_MiniFASNetV2.h5",
    "https://huggingface.co/serengil/deepface/resolve/main/2.7_80x80_MiniFASNetV2.h5",
]
SECOND_WEIGHT_FILE = "4_0_0_80x80_MiniFASNetV1SE.h5"
SECOND_WEIGHTS_URL = [
    "https://github.com/serengil/deepface_models/releases/download/v1.0/4_0_0_80x80_MiniFASNetV1SE.h5",
    "https://huggingface.co/serengil/deepface/resolve/main/4_0_0_80x80_MiniFASNetV1SE.h5",
]
FIRST_SCALE = 2.7
SECOND_SCALE = 4.0
CROP_SIZE = FasNetBackbone.INPUT_SIZE
REAL_LABEL = 1  # class 0 and 2 are two kinds of spoof

#: One face to judge: the original image and the face's ``(x, y, w, h)`` in it.
Item = Tuple[NDArray[Any], Box]


@dataclass(frozen=True)
class Member:
    """One of the two networks: how it is built, its weights, and the crop scale it sees."""

    build: Callable[[], Any]
    weight_file: str
    urls: Sequence[str]
    scale: float


MEMBERS: Tuple[Member, Member] = (
    Member(FasNetBackbone.MiniFASNetV2, FIRST_WEIGHT_FILE, FIRST_WEIGHTS_URL, FIRST_SCALE),
    Member(FasNetBackbone.MiniFASNetV1SE, SECOND_WEIGHT_FILE, SECOND_WEIGHTS_URL, SECOND_SCALE),
)


def load_member(member: Member) -> Any:
    """``member``'s network with deepface's weights (downloaded once, then cached)."""
    model = member.build()
    load_keras_weights(model, member.weight_file, member.urls)
    logger.debug("anti-spoofing network loaded from %s", member.weight_file)
    return model


def member_crops(items: Sequence[Item], scale: float) -> NDArray[np.float32]:
    """Every item's face crop at ``scale``, 80x80, stacked as ``(N, 80, 80, 3)`` float32."""
    if len(items) == 0:
        return np.zeros((0, CROP_SIZE, CROP_SIZE, 3), dtype=np.float32)
    return np.stack([crop(img, box, scale, CROP_SIZE, CROP_SIZE) for img, box in items]).astype(np.float32)


def verdicts(first: NDArray[np.float32], second: NDArray[np.float32]) -> List[Tuple[bool, float]]:
    """``(is_real, score)`` per face from the two networks' probabilities, ``(N, 3)`` each:
    summed (in float64, as deepface does), the label is the largest sum, the score half of it."""
    total = first.astype(np.float64) + second.astype(np.float64)
    labels = np.argmax(total, axis=1)
    return [(bool(label == REAL_LABEL), float(row[label] / 2)) for row, label in zip(total, labels)]


class Fasnet:
    """Anti-spoofing with deepface's two MiniFASNets (Silent-Face-Anti-Spoofing).

    Attributes:
        first_model: MiniFASNetV2, sees the face box enlarged 2.7 times (a Keras model).
        second_model: MiniFASNetV1SE, sees it enlarged 4 times (a Keras model).
    """

    def __init__(self) -> None:
        self.first_model, self.second_model = (load_member(member) for member in MEMBERS)
        self._inference = tuple(compiled_inference(model) for model in (self.first_model, self.second_model))

    def probabilities(self, items: Sequence[Item]) -> Tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Each network's softmax for every item, ``(N, 3)`` float32 each; one forward
        pass per network for the whole batch.

        Raises:
            DataTypeError: an image that is not ``(H, W, 3)``, or an empty facial area.
        """
        items = [(check_image(img), box) for img, box in items]
        outputs = []
        for member, inference in zip(MEMBERS, self._inference):
            crops = member_crops(items, member.scale)
            if len(crops) == 0:
                outputs.append(np.zeros((0, FasNetBackbone.CLASSES), dtype=np.float32))
                continue
            logits = np.asarray(inference(np.ascontiguousarray(crops)), dtype=np.float32)
            outputs.append(softmax(logits))
        return outputs[0], outputs[1]

    def analyze_batch(self, items: Sequence[Item]) -> List[Tuple[bool, float]]:
        """``(is_real, score)`` for each ``(image, (x, y, w, h))``, as :meth:`analyze`
        gives it, with each network run once over all the faces."""
        return verdicts(*self.probabilities(items))

    def analyze(self, img: NDArray[Any], facial_area: Box) -> Tuple[bool, float]:
        """deepface's ``analyze``: whether the face at ``facial_area`` ``(x, y, w, h)`` in
        ``img`` (the original BGR image) is real, and the confidence of that verdict.

        Returns:
            ``(is_real, score)``: ``score`` is half the two networks' summed probability
            of the winning class (real, or the likelier of the two spoof classes).
        """
        return self.analyze_batch([(img, facial_area)])[0]
