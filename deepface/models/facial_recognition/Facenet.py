"""FaceNet (David Sandberg's Inception-ResNet-v1) with deepface's 128-d and 512-d weights.

The network is described by tables (stem, reduction blocks, residual blocks) and built by
a few helpers. Layer names are those of deepface's weight files, including their quirk
that the second branch of ``Block17_k`` and ``Block8_k`` (k <= 5) is labelled ``Branch_k``.
"""

import functools
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from deepface.commons.logger import get_logger
from deepface.commons.backend_utils import ONNX, PYTORCH, TENSORFLOW
from deepface.models.engines import Network
from deepface.models.facial_recognition.keras_base import keras, load_keras_weights
from deepface.models.facial_recognition.network_base import NetworkRecognition

logger = get_logger(__name__)

Kernel = Union[int, Tuple[int, int]]

INPUT_SIZE = 160
# dimension -> (deepface's weight file, its URLs)
WEIGHTS: Dict[int, Tuple[str, List[str]]] = {
    128: (
        "facenet_weights.h5",
        [
            "https://github.com/serengil/deepface_models/releases/download/v1.0/facenet_weights.h5",
            "https://huggingface.co/serengil/deepface/resolve/main/facenet_weights.h5",
        ],
    ),
    512: (
        "facenet512_weights.h5",
        [
            "https://github.com/serengil/deepface_models/releases/download/v1.0/facenet512_weights.h5",
            "https://huggingface.co/serengil/deepface/resolve/main/facenet512_weights.h5",
        ],
    ),
}
BN_MOMENTUM = 0.995
BN_EPSILON = 0.001
KEEP_PROBABILITY = 0.8


@dataclass(frozen=True)
class Conv:
    """A bias-free convolution followed by batch norm (no scale) and ReLU."""

    name: str
    filters: int
    kernel: Kernel
    strides: int = 1
    padding: str = "same"


# Stem: 160x160x3 -> 17x17x256; a string is a 3x3, stride-2, valid max-pool of that name
STEM: Tuple[Union[Conv, str], ...] = (
    Conv("Conv2d_1a_3x3", 32, 3, strides=2, padding="valid"),
    Conv("Conv2d_2a_3x3", 32, 3, padding="valid"),
    Conv("Conv2d_2b_3x3", 64, 3),
    "MaxPool_3a_3x3",
    Conv("Conv2d_3b_1x1", 80, 1, padding="valid"),
    Conv("Conv2d_4a_3x3", 192, 3, padding="valid"),
    Conv("Conv2d_4b_3x3", 256, 3, strides=2, padding="valid"),
)


@dataclass(frozen=True)
class Residual:
    """An Inception-ResNet block family: branches (each a chain of (suffix, filters, kernel)),
    concatenated, projected back by a biased 1x1 convolution, scaled and added."""

    family: str
    repeats: int
    scale: float
    branches: Tuple[Tuple[Tuple[str, int, Kernel], ...], ...]


BLOCK35 = Residual(
    "Block35", 5, 0.17,
    (
        (("Conv2d_1x1", 32, 1),),
        (("Conv2d_0a_1x1", 32, 1), ("Conv2d_0b_3x3", 32, 3)),
        (("Conv2d_0a_1x1", 32, 1), ("Conv2d_0b_3x3", 32, 3), ("Conv2d_0c_3x3", 32, 3)),
    ),
)
BLOCK17 = Residual(
    "Block17", 10, 0.1,
    (
        (("Conv2d_1x1", 128, 1),),
        (("Conv2d_0a_1x1", 128, 1), ("Conv2d_0b_1x7", 128, (1, 7)), ("Conv2d_0c_7x1", 128, (7, 1))),
    ),
)
BLOCK8 = Residual(
    "Block8", 5, 0.2,
    (
        (("Conv2d_1x1", 192, 1),),
        (("Conv2d_0a_1x1", 192, 1), ("Conv2d_0b_1x3", 192, (1, 3)), ("Conv2d_0c_3x1", 192, (3, 1))),
    ),
)

# Reduction blocks: branches of Convs (names relative to the block); a string names the max-pool branch.
MIXED_6A: Tuple[Union[Tuple[Conv, ...], str], ...] = (
    (Conv("Branch_0_Conv2d_1a_3x3", 384, 3, strides=2, padding="valid"),),
    (
        Conv("Branch_1_Conv2d_0a_1x1", 192, 1),
        Conv("Branch_1_Conv2d_0b_3x3", 192, 3),
        Conv("Branch_1_Conv2d_1a_3x3", 256, 3, strides=2, padding="valid"),
    ),
    "Branch_2_MaxPool_1a_3x3",
)
MIXED_7A: Tuple[Union[Tuple[Conv, ...], str], ...] = (
    (
        Conv("Branch_0_Conv2d_0a_1x1", 256, 1),
        Conv("Branch_0_Conv2d_1a_3x3", 384, 3, strides=2, padding="valid"),
    ),
    (
        Conv("Branch_1_Conv2d_0a_1x1", 256, 1),
        Conv("Branch_1_Conv2d_1a_3x3", 256, 3, strides=2, padding="valid"),
    ),
    (
        Conv("Branch_2_Conv2d_0a_1x1", 256, 1),
        Conv("Branch_2_Conv2d_0b_3x3", 256, 3),
        Conv("Branch_2_Conv2d_1a_3x3", 256, 3, strides=2, padding="valid"),
    ),
    "Branch_3_MaxPool_1a_3x3",
)


def _conv_bn(x: Any, conv: Conv, activate: bool = True) -> Any:
    """Convolution, batch norm and (optionally) ReLU, named after the convolution."""
    layers = keras().layers
    x = layers.Conv2D(
        conv.filters, conv.kernel, strides=conv.strides, padding=conv.padding, use_bias=False, name=conv.name
    )(x)
    x = layers.BatchNormalization(
        axis=3, momentum=BN_MOMENTUM, epsilon=BN_EPSILON, scale=False, name=f"{conv.name}_BatchNorm"
    )(x)
    if activate:
        x = layers.Activation("relu", name=f"{conv.name}_Activation")(x)
    return x


def _max_pool(x: Any, name: str) -> Any:
    return keras().layers.MaxPooling2D(3, strides=2, padding="valid", name=name)(x)


def _stem(x: Any) -> Any:
    for step in STEM:
        x = _max_pool(x, step) if isinstance(step, str) else _conv_bn(x, step)
    return x


def _reduction(x: Any, name: str, branches: Sequence[Union[Tuple[Conv, ...], str]]) -> Any:
    """A reduction block: strided branches and a max-pool, concatenated."""
    outputs = []
    for branch in branches:
        if isinstance(branch, str):
            outputs.append(_max_pool(x, f"{name}_{branch}"))
            continue
        y = x
        for conv in branch:
            y = _conv_bn(y, replace(conv, name=f"{name}_{conv.name}"))
        outputs.append(y)
    return keras().layers.Concatenate(axis=3, name=name)(outputs)


def _residual(
    x: Any,
    spec: Residual,
    index: int,
    scale: float,
    activate: bool = True,
    branch_label: Optional[int] = None,
) -> Any:
    """One residual block ``{family}_{index}``: x + scale * project(concat(branches)).

    ``branch_label`` replaces the number of every branch but the first in layer names.
    """
    layers = keras().layers
    block = f"{spec.family}_{index}"
    outputs = []
    for number, chain in enumerate(spec.branches):
        label = number if number == 0 or branch_label is None else branch_label
        y = x
        for suffix, filters, kernel in chain:
            y = _conv_bn(y, Conv(f"{block}_Branch_{label}_{suffix}", filters, kernel))
        outputs.append(y)
    mixed = layers.Concatenate(axis=3, name=f"{block}_Concatenate")(outputs)
    channels = int(x.shape[-1])
    up = layers.Conv2D(channels, 1, padding="same", use_bias=True, name=f"{block}_Conv2d_1x1")(mixed)
    up = layers.Rescaling(scale, name=f"{block}_Scale")(up)
    x = layers.Add(name=f"{block}_Add")([x, up])
    if activate:
        x = layers.Activation("relu", name=f"{block}_Activation")(x)
    return x


def _repeat(x: Any, spec: Residual, numbered_branches: bool) -> Any:
    """``spec.repeats`` blocks, numbered from 1; ``numbered_branches`` reproduces the weight
    files' naming where block k's second branch is ``Branch_k``."""
    for index in range(1, spec.repeats + 1):
        x = _residual(x, spec, index, spec.scale, branch_label=index if numbered_branches else None)
    return x


def inception_resnet_v1(dimension: int = 128) -> Any:
    """deepface's Inception-ResNet-v1: 160x160x3 in, a ``dimension``-d embedding out."""
    k = keras()
    layers = k.layers
    inputs = layers.Input(shape=(INPUT_SIZE, INPUT_SIZE, 3))
    x = _stem(inputs)
    x = _repeat(x, BLOCK35, numbered_branches=False)
    x = _reduction(x, "Mixed_6a", MIXED_6A)
    x = _repeat(x, BLOCK17, numbered_branches=True)
    x = _reduction(x, "Mixed_7a", MIXED_7A)
    x = _repeat(x, BLOCK8, numbered_branches=True)
    # the last Block8: unscaled, no ReLU, standard branch names
    x = _residual(x, BLOCK8, BLOCK8.repeats + 1, scale=1.0, activate=False)
    x = layers.GlobalAveragePooling2D(name="AvgPool")(x)
    x = layers.Dropout(1.0 - KEEP_PROBABILITY, name="Dropout")(x)
    x = layers.Dense(dimension, use_bias=False, name="Bottleneck")(x)
    x = layers.BatchNormalization(
        momentum=BN_MOMENTUM, epsilon=BN_EPSILON, scale=False, name="Bottleneck_BatchNorm"
    )(x)
    return k.models.Model(inputs, x, name="inception_resnet_v1")


def _keras_facenet(dimension: int) -> Any:
    file_name, urls = WEIGHTS[dimension]
    model = load_keras_weights(inception_resnet_v1(dimension), file_name, urls)
    logger.debug("FaceNet-%dd weights loaded from %s", dimension, file_name)
    return model


def _network(dimension: int) -> Network:
    stem = WEIGHTS[dimension][0][: -len(".h5")]
    return Network(
        name=f"Facenet{'' if dimension == 128 else dimension}",
        files={TENSORFLOW: WEIGHTS[dimension][0], PYTORCH: f"{stem}.pth", ONNX: f"{stem}.onnx"},
        keras=functools.partial(_keras_facenet, dimension),
        torch=f"deepface.models.torch_nets.facenet:facenet{dimension}",
    )


#: The two networks on each engine, by embedding dimension.
NETWORKS: Dict[int, Network] = {dimension: _network(dimension) for dimension in WEIGHTS}


class FaceNetClient(NetworkRecognition):
    """FaceNet with deepface's weights: ``dimension=128`` is deepface's "Facenet",
    ``dimension=512`` its "Facenet512". 160x160 BGR faces in, embeddings out."""

    input_shape = (INPUT_SIZE, INPUT_SIZE)

    def __init__(self, dimension: int = 128, device: Optional[str] = None, precision: Optional[str] = None) -> None:
        if dimension not in NETWORKS:
            raise ValueError(f"FaceNet comes in dimensions {sorted(NETWORKS)}, not {dimension}")
        self.output_shape = dimension
        self.model_name = f"FaceNet-{dimension}d"  # deepface's client names
        super().__init__(NETWORKS[dimension], device, precision)
