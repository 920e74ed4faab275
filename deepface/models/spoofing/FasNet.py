"""deepface's ``Fasnet`` anti-spoofing model, batched.

Two MiniFASNets judge each face: MiniFASNetV2 on the face box enlarged 2.7 times and
MiniFASNetV1SE on it enlarged 4 times, both cut from the original image and resized to
80x80, fed as BGR pixels in ``[0, 255]``. Their softmax outputs are summed: the face is
real when the class with the largest sum is class 1, and the score is that sum halved.
A batch runs each network once over all its faces; each face's result is the one it
gets alone.
"""

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, List, Optional, Sequence, Tuple

import numpy as np
from numpy.typing import NDArray

from deepface.commons.backend_utils import ONNX, PYTORCH, TENSORFLOW
from deepface.commons.logger import get_logger
from deepface.models.engines import Network, load_runner
from deepface.models.facial_recognition.keras_base import load_keras_weights
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
#: The PyTorch engine's files: Silent-Face-Anti-Spoofing's own checkpoints, as deepface loads them.
SILENT_FACE_URL = "https://github.com/minivision-ai/Silent-Face-Anti-Spoofing/raw/master/resources/anti_spoof_models/"
FIRST_SCALE = 2.7
SECOND_SCALE = 4.0
CROP_SIZE = FasNetBackbone.INPUT_SIZE
REAL_LABEL = 1  # class 0 and 2 are two kinds of spoof

#: One face to judge: the original image and the face's ``(x, y, w, h)`` in it.
Item = Tuple[NDArray[Any], Box]


@dataclass(frozen=True)
class Member:
    """One of the two networks: how Keras builds it, its weights, the crop scale it sees."""

    build: Callable[[], Any]
    weight_file: str
    urls: Sequence[str]
    scale: float
    torch: str

    @property
    def stem(self) -> str:
        return self.weight_file[: -len(".h5")]

    def network(self) -> Network:
        """This network on each engine (deepface's ``.h5``, ``.pth`` and ``.onnx`` files)."""
        return Network(
            name=self.stem,
            files={TENSORFLOW: self.weight_file, PYTORCH: f"{self.stem}.pth", ONNX: f"{self.stem}.onnx"},
            keras=lambda: load_member(self),
            torch=f"deepface.models.torch_nets.minifasnet:{self.torch}",
            urls={TENSORFLOW: self.urls, PYTORCH: [f"{SILENT_FACE_URL}{self.stem}.pth"]},
        )


MEMBERS: Tuple[Member, Member] = (
    Member(FasNetBackbone.MiniFASNetV2, FIRST_WEIGHT_FILE, FIRST_WEIGHTS_URL, FIRST_SCALE, "minifasnet_v2"),
    Member(FasNetBackbone.MiniFASNetV1SE, SECOND_WEIGHT_FILE, SECOND_WEIGHTS_URL, SECOND_SCALE, "minifasnet_v1se"),
)
#: Engines whose files end in a softmax (deepface exported its graphs so); the others give logits.
SOFTMAX_INCLUDED = frozenset({ONNX})


def load_member(member: Member) -> Any:
    """``member``'s Keras network with deepface's weights (downloaded once, then cached)."""
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
        first_model: MiniFASNetV2, sees the face box enlarged 2.7 times (the engine's model).
        second_model: MiniFASNetV1SE, sees it enlarged 4 times.
        engine: ``None`` for the process's engine; deepface's ``spoofing.tf.FasNet`` ... pin it.
    """

    engine: ClassVar[Optional[str]] = None

    def __init__(self, device: Optional[str] = None, precision: Optional[str] = None) -> None:
        self.runners = tuple(load_runner(member.network(), self.engine, device, precision) for member in MEMBERS)
        self.first_model, self.second_model = (runner.model for runner in self.runners)

    def probabilities(self, items: Sequence[Item]) -> Tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Each network's softmax for every item, ``(N, 3)`` float32 each; one forward
        pass per network for the whole batch.

        Raises:
            DataTypeError: an image that is not ``(H, W, 3)``, or an empty facial area.
        """
        items = [(check_image(img), box) for img, box in items]
        outputs = []
        for member, runner in zip(MEMBERS, self.runners):
            crops = member_crops(items, member.scale)
            if len(crops) == 0:
                outputs.append(np.zeros((0, FasNetBackbone.CLASSES), dtype=np.float32))
                continue
            output = runner(crops)
            outputs.append(output if runner.engine in SOFTMAX_INCLUDED else softmax(output))
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
