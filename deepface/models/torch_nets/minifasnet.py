"""MiniFASNetV2 and MiniFASNetV1SE (Minivision's Silent-Face-Anti-Spoofing) in PyTorch,
as deepface 0.0.103's ``2.7_80x80_MiniFASNetV2.pth`` and ``4_0_0_80x80_MiniFASNetV1SE.pth``
hold them.

Input: ``(n, 3, 80, 80)`` BGR pixels in ``[0, 255]`` (not normalised). Output: ``(n, 3)``
logits; deepface's client applies the softmax (its ``.onnx`` graphs include it).

The network: a stride-2 3x3 convolution and a depthwise 3x3 one (stem), three stages
each of a stride-2 inverted bottleneck (``conv_23``, ``conv_34``, ``conv_45``) and
residual ones (``conv_3``, ``conv_4``, ``conv_5``), a 1x1 convolution to 512 channels,
a global depthwise 5x5 convolution, a 128-d bias-free linear layer with batch norm and a
bias-free classifier. Convolutions are bias-free, each followed by a batch norm and a
PReLU unless it is a projection. V1SE gates the last residual bottleneck of each stage by
squeeze-and-excitation; the variants otherwise differ only in widths (:data:`VARIANTS`).

Minivision saved its files from ``DataParallel``: their keys may start with ``module.``,
which deepface strips before loading, as :func:`deepface.models.engines.load_torch_state` does.
"""

from collections import OrderedDict
from typing import NamedTuple, Optional, Tuple

from torch import Tensor, nn

INPUT_SIZE = 80
STEM_CHANNELS = 32
SEPARABLE_CHANNELS = 512
HEAD_KERNEL = INPUT_SIZE // 16  # stem and three stride-2 stages leave a 5x5 map
EMBEDDING_SIZE = 128
CLASSES = 3
SQUEEZE_RATIO = 4  # V1SE's gates: channels // 4


class Stage(NamedTuple):
    """A stride-2 bottleneck expanding to ``expand`` and projecting to ``channels``, then
    residual bottlenecks at ``channels`` expanding to each of ``residual_expands``."""

    expand: int
    channels: int
    residual_expands: Tuple[int, ...]


class Variant(NamedTuple):
    stages: Tuple[Stage, Stage, Stage]
    squeeze: bool  # gate each stage's last residual bottleneck
    dropout: float  # before the classifier (off in eval mode)


VARIANTS = {
    "MiniFASNetV2": Variant(
        (
            Stage(103, 64, (13, 13, 13, 13)),
            Stage(231, 128, (231, 52, 26, 77, 26, 26)),
            Stage(308, 128, (26, 26)),
        ),
        squeeze=False,
        dropout=0.2,
    ),
    "MiniFASNetV1SE": Variant(
        (
            Stage(103, 64, (13, 26, 13, 52)),
            Stage(231, 128, (154, 52, 26, 52, 26, 26)),
            Stage(308, 128, (26, 26)),
        ),
        squeeze=True,
        dropout=0.75,
    ),
}
FIRST_STAGE = 3  # the stages' keys count from 3: conv_23 leads into conv_3


class ConvUnit(nn.Module):
    """A bias-free convolution (depthwise when ``depthwise``; zero ``padding`` on each
    side), batch norm, optional PReLU."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel: int = 1, stride: int = 1, padding: int = 0,
        depthwise: bool = False, activate: bool = True,
    ) -> None:
        super().__init__()
        groups = in_channels if depthwise else 1
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel, stride=stride, padding=padding, groups=groups, bias=False
        )
        self.bn = nn.BatchNorm2d(out_channels)
        self.prelu: Optional[nn.PReLU] = nn.PReLU(out_channels) if activate else None

    def forward(self, x: Tensor) -> Tensor:
        x = self.bn(self.conv(x))
        return x if self.prelu is None else self.prelu(x)


class SqueezeGate(nn.Module):
    """Channel gate: global mean -> 1x1 conv, bn, ReLU -> 1x1 conv, bn, sigmoid."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        width = channels // SQUEEZE_RATIO
        self.fc1 = nn.Conv2d(channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.fc2 = nn.Conv2d(width, channels, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: Tensor) -> Tensor:
        gate = self.bn1(self.fc1(x.mean(dim=(2, 3), keepdim=True))).relu()
        return x * self.bn2(self.fc2(gate)).sigmoid()


class InvertedBottleneck(nn.Module):
    """1x1 expansion -> depthwise 3x3 (stride 2 or 1) -> linear 1x1 projection; at stride
    1 added to its input, the projection gated first when ``gated``."""

    def __init__(self, in_channels: int, expand: int, out_channels: int, stride: int, gated: bool = False) -> None:
        super().__init__()
        self.residual = stride == 1
        self.conv = ConvUnit(in_channels, expand)
        self.conv_dw = ConvUnit(expand, expand, 3, stride, padding=1, depthwise=True)
        self.project = ConvUnit(expand, out_channels, activate=False)
        self.se_module: Optional[SqueezeGate] = SqueezeGate(out_channels) if gated else None

    def forward(self, x: Tensor) -> Tensor:
        y = self.project(self.conv_dw(self.conv(x)))
        if not self.residual:
            return y
        if self.se_module is not None:
            y = self.se_module(y)
        return x + y


class ResidualStack(nn.Module):
    """A stage's residual bottlenecks, under the key ``model`` as in deepface's files."""

    def __init__(self, channels: int, expands: Tuple[int, ...], gate_last: bool) -> None:
        super().__init__()
        last = len(expands) - 1
        self.model = nn.Sequential(
            *(
                InvertedBottleneck(channels, expand, channels, stride=1, gated=gate_last and k == last)
                for k, expand in enumerate(expands)
            )
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)  # type: ignore[no-any-return]


def _layers(variant: Variant) -> "OrderedDict[str, nn.Module]":
    layers: "OrderedDict[str, nn.Module]" = OrderedDict(
        conv1=ConvUnit(3, STEM_CHANNELS, 3, stride=2, padding=1),
        conv2_dw=ConvUnit(STEM_CHANNELS, STEM_CHANNELS, 3, padding=1, depthwise=True),
    )
    channels = STEM_CHANNELS
    for number, stage in enumerate(variant.stages, start=FIRST_STAGE):
        layers[f"conv_{number - 1}{number}"] = InvertedBottleneck(channels, stage.expand, stage.channels, 2)
        layers[f"conv_{number}"] = ResidualStack(stage.channels, stage.residual_expands, variant.squeeze)
        channels = stage.channels
    layers["conv_6_sep"] = ConvUnit(channels, SEPARABLE_CHANNELS)
    layers["conv_6_dw"] = ConvUnit(
        SEPARABLE_CHANNELS, SEPARABLE_CHANNELS, HEAD_KERNEL, depthwise=True, activate=False
    )
    layers["conv_6_flatten"] = nn.Flatten()
    layers["linear"] = nn.Linear(SEPARABLE_CHANNELS, EMBEDDING_SIZE, bias=False)
    layers["bn"] = nn.BatchNorm1d(EMBEDDING_SIZE)
    layers["drop"] = nn.Dropout(variant.dropout)
    layers["prob"] = nn.Linear(EMBEDDING_SIZE, CLASSES, bias=False)
    return layers


class MiniFASNet(nn.Sequential):
    """``(n, 3, 80, 80)`` BGR pixels in ``[0, 255]`` -> ``(n, 3)`` logits."""

    def __init__(self, variant: Variant) -> None:
        super().__init__(_layers(variant))


def minifasnet_v2() -> MiniFASNet:
    """deepface's first anti-spoofing network (it sees the face box enlarged 2.7 times)."""
    return MiniFASNet(VARIANTS["MiniFASNetV2"])


def minifasnet_v1se() -> MiniFASNet:
    """deepface's second anti-spoofing network (it sees the face box enlarged 4 times)."""
    return MiniFASNet(VARIANTS["MiniFASNetV1SE"])
