"""MiniFASNet (Minivision's Silent-Face-Anti-Spoofing) in Keras, as deepface's weight files
hold it: MiniFASNetV2 and MiniFASNetV1SE, 80x80 BGR inputs in ``[0, 255]``, three logits.

The network: a stride-2 3x3 convolution and a depthwise 3x3 one (the stem), three stages
of inverted bottlenecks (a stride-2 one into the stage's width, then residual ones), a 1x1
convolution to 512 channels, a global depthwise 5x5 convolution, a 128-d linear embedding
with batch norm, and a linear classifier. Every convolution is bias-free and followed by
a batch norm (PyTorch's epsilon), then a PReLU unless it is a projection. The V1SE
variant gates the last residual bottleneck of each stage by squeeze-and-excitation.

The two variants differ only in their widths (the tables below) and in that gating.
Layer names are those of deepface's weight files (PyTorch module paths, dots as
underscores); weights load layer by layer in order, so the construction order matters.
"""

from dataclasses import dataclass
from typing import Any, Optional, Tuple

from deepface.commons.logger import get_logger
from deepface.models.facial_recognition.keras_base import keras

logger = get_logger(__name__)

INPUT_SIZE = 80
STEM_CHANNELS = 32
SEPARABLE_CHANNELS = 512  # the 1x1 convolution before the global depthwise one
HEAD_KERNEL = 5  # the global depthwise convolution covers the final 5x5 map
EMBEDDING_SIZE = 128
CLASSES = 3
BN_EPSILON = 1e-5  # PyTorch's default: the weights were trained there
BN_MOMENTUM = 0.9  # PyTorch's 0.1, as Keras counts it (irrelevant at inference)
DEPTHWISE_KERNEL = 3  # every bottleneck's depthwise convolution is 3x3, padded by 1


@dataclass(frozen=True)
class Stage:
    """A stride-2 bottleneck that expands to ``expand`` channels and projects to
    ``channels``, followed by residual bottlenecks at ``channels``, whose expansions are
    ``residual_expands``."""

    expand: int
    channels: int
    residual_expands: Tuple[int, ...]


@dataclass(frozen=True)
class Variant:
    """One MiniFASNet: its stages, its squeeze-and-excitation ratio (0: none) and the
    dropout before its classifier."""

    name: str
    stages: Tuple[Stage, Stage, Stage]
    squeeze: int
    dropout: float


MINIFASNET_V2 = Variant(
    "MiniFASNetV2",
    (
        Stage(103, 64, (13, 13, 13, 13)),
        Stage(231, 128, (231, 52, 26, 77, 26, 26)),
        Stage(308, 128, (26, 26)),
    ),
    squeeze=0,
    dropout=0.2,
)
MINIFASNET_V1SE = Variant(
    "MiniFASNetV1SE",
    (
        Stage(103, 64, (13, 26, 13, 52)),
        Stage(231, 128, (154, 52, 26, 52, 26, 26)),
        Stage(308, 128, (26, 26)),
    ),
    squeeze=4,
    dropout=0.75,
)
#: The stages' layer names count from 3: ``conv_23`` leads into ``conv_3``, and so on.
FIRST_STAGE_NUMBER = 3


def _batch_norm(x: Any, name: str) -> Any:
    """Batch norm with PyTorch's epsilon (and momentum)."""
    return keras().layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=name)(x)


def _conv_bn(
    x: Any,
    name: str,
    filters: Optional[int],
    kernel: int = 1,
    stride: int = 1,
    pad: int = 0,
    prelu: bool = True,
) -> Any:
    """A bias-free convolution (depthwise when ``filters`` is None), PyTorch-style
    symmetric zero padding, batch norm and an optional per-channel PReLU."""
    layers = keras().layers
    if pad:
        x = layers.ZeroPadding2D(padding=(pad, pad), name=f"{name}_pad")(x)
    if filters is None:
        x = layers.DepthwiseConv2D(kernel, strides=stride, use_bias=False, name=f"{name}_conv")(x)
    else:
        x = layers.Conv2D(filters, kernel, strides=stride, use_bias=False, name=f"{name}_conv")(x)
    x = _batch_norm(x, f"{name}_bn")
    if prelu:
        x = layers.PReLU(shared_axes=[1, 2], name=f"{name}_prelu")(x)
    return x


def _squeeze_excite(x: Any, name: str, channels: int, ratio: int) -> Any:
    """Gate each channel of ``x`` by a sigmoid of its global average, squeezed ``ratio``
    times through two bias-free 1x1 convolutions with batch norms."""
    layers = keras().layers
    gate = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_pool")(x)
    for suffix, width, activation in (("1", channels // ratio, "relu"), ("2", channels, "sigmoid")):
        gate = layers.Conv2D(width, 1, use_bias=False, name=f"{name}_fc{suffix}")(gate)
        gate = _batch_norm(gate, f"{name}_bn{suffix}")
        gate = layers.Activation(activation, name=f"{name}_{activation}")(gate)
    return layers.Multiply(name=f"{name}_scale")([x, gate])


def _bottleneck(x: Any, name: str, expand: int, channels: int, stride: int, squeeze: int = 0) -> Any:
    """An inverted bottleneck: 1x1 expansion, depthwise 3x3, linear 1x1 projection. At
    stride 1 it is residual, the projection gated first when ``squeeze`` is set."""
    y = _conv_bn(x, f"{name}_conv", expand)
    y = _conv_bn(y, f"{name}_conv_dw", None, DEPTHWISE_KERNEL, stride, pad=DEPTHWISE_KERNEL // 2)
    y = _conv_bn(y, f"{name}_project", channels, prelu=False)
    if stride != 1:
        return y
    if squeeze:
        y = _squeeze_excite(y, f"{name}_se_module", channels, squeeze)
    return keras().layers.Add(name=f"{name}_add")([x, y])


def _stage(x: Any, number: int, stage: Stage, squeeze: int) -> Any:
    """Stage ``number``: its stride-2 bottleneck, then its residual ones (only the last
    gated by squeeze-and-excitation)."""
    x = _bottleneck(x, f"conv_{number - 1}{number}", stage.expand, stage.channels, stride=2)
    last = len(stage.residual_expands) - 1
    for k, expand in enumerate(stage.residual_expands):
        gate = squeeze if k == last else 0
        x = _bottleneck(x, f"conv_{number}_model_{k}", expand, stage.channels, stride=1, squeeze=gate)
    return x


def build_minifasnet(variant: Variant) -> Any:
    """The Keras model of ``variant`` (untrained): ``(N, 80, 80, 3)`` in, ``(N, 3)``
    logits out."""
    k = keras()
    layers = k.layers
    inputs = layers.Input(shape=(INPUT_SIZE, INPUT_SIZE, 3))
    x = _conv_bn(inputs, "conv1", STEM_CHANNELS, kernel=3, stride=2, pad=1)
    x = _conv_bn(x, "conv2_dw", None, kernel=3, pad=1)
    for offset, stage in enumerate(variant.stages):
        x = _stage(x, FIRST_STAGE_NUMBER + offset, stage, variant.squeeze)
    x = _conv_bn(x, "conv_6_sep", SEPARABLE_CHANNELS)
    x = _conv_bn(x, "conv_6_dw", None, kernel=HEAD_KERNEL, prelu=False)
    x = layers.Flatten(name="conv_6_flatten")(x)  # 1x1 maps: no ordering question
    x = layers.Dense(EMBEDDING_SIZE, use_bias=False, name="linear")(x)
    x = _batch_norm(x, "bn")
    x = layers.Dropout(variant.dropout, name="drop")(x)
    outputs = layers.Dense(CLASSES, use_bias=False, name="prob")(x)
    logger.debug("built %s", variant.name)
    return k.models.Model(inputs=inputs, outputs=outputs, name=variant.name)


def MiniFASNetV2() -> Any:  # noqa: N802  (deepface's name)
    """MiniFASNetV2 as deepface uses it (5x5 global depthwise kernel), untrained."""
    return build_minifasnet(MINIFASNET_V2)


def MiniFASNetV1SE() -> Any:  # noqa: N802  (deepface's name)
    """MiniFASNetV1SE (squeeze-and-excitation, ratio 4) as deepface uses it, untrained."""
    return build_minifasnet(MINIFASNET_V1SE)
