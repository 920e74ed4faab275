"""ArcFace in PyTorch, as deepface 0.0.103's ``arcface_weights.pth`` holds it.

A ResNet-34 of pre-activation units (batch norm, 3x3 convolution, batch norm, PReLU,
strided 3x3 convolution, batch norm, added to the shortcut) on 112x112 BGR faces,
read out by a batch norm, a dense layer over the channels-first flattened 7x7 map and
a 512-d batch norm: the raw embedding, before any l2 normalisation.

State-dict keys: ``backbone.conv1_{conv,bn,prelu}``, ``backbone.conv<2..5>.<k>.<layer>``
(``conv_0``/``bn_0``, the projected shortcut, only in a stage's first unit),
``bn``, ``dense``, ``embedding``.
"""

from collections import OrderedDict
from typing import Optional, Tuple

from torch import Tensor, nn

INPUT_SIZE = 112
STEM_CHANNELS = 64
EMBEDDING_SIZE = 512
FINAL_MAP = INPUT_SIZE // 16  # four stride-2 stages: 7x7
BN_EPS = 2e-5  # the Keras model's epsilon, kept by deepface's port
DROPOUT = 0.4  # before the dense layer (off in eval mode)

#: (stage name, width, units): each stage's first unit halves the map and projects its shortcut.
STAGES: Tuple[Tuple[str, int, int], ...] = (
    ("conv2", 64, 3),
    ("conv3", 128, 4),
    ("conv4", 256, 6),
    ("conv5", 512, 3),
)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


def _conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


class PreActUnit(nn.Module):
    """One residual unit; a strided unit also projects its shortcut (1x1 conv + bn)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv_0: Optional[nn.Conv2d] = None
        self.bn_0: Optional[nn.BatchNorm2d] = None
        if stride != 1 or in_channels != out_channels:
            self.conv_0 = nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)
            self.bn_0 = _bn(out_channels)
        self.bn_1 = _bn(in_channels)
        self.conv_1 = _conv3x3(in_channels, out_channels)
        self.bn_2 = _bn(out_channels)
        self.prelu_1 = nn.PReLU(out_channels)
        self.conv_2 = _conv3x3(out_channels, out_channels, stride)
        self.bn_3 = _bn(out_channels)

    def forward(self, x: Tensor) -> Tensor:
        y = self.prelu_1(self.bn_2(self.conv_1(self.bn_1(x))))
        y = self.bn_3(self.conv_2(y))
        if self.conv_0 is not None and self.bn_0 is not None:
            x = self.bn_0(self.conv_0(x))
        return x + y


def _stage(in_channels: int, width: int, units: int) -> nn.Sequential:
    return nn.Sequential(
        PreActUnit(in_channels, width, stride=2), *(PreActUnit(width, width, stride=1) for _ in range(units - 1))
    )


def _backbone() -> nn.Sequential:
    layers: "OrderedDict[str, nn.Module]" = OrderedDict(
        conv1_conv=_conv3x3(3, STEM_CHANNELS), conv1_bn=_bn(STEM_CHANNELS), conv1_prelu=nn.PReLU(STEM_CHANNELS)
    )
    channels = STEM_CHANNELS
    for name, width, units in STAGES:
        layers[name] = _stage(channels, width, units)
        channels = width
    return nn.Sequential(layers)


class ArcFaceNet(nn.Sequential):
    """``(n, 3, 112, 112)`` BGR faces (deepface's ArcFace normalisation) -> ``(n, 512)``."""

    def __init__(self) -> None:
        width = STAGES[-1][1]
        super().__init__(
            OrderedDict(
                backbone=_backbone(),
                bn=_bn(width),
                dropout=nn.Dropout(DROPOUT),
                flatten=nn.Flatten(),  # channels first, as deepface's dense weights expect
                dense=nn.Linear(width * FINAL_MAP * FINAL_MAP, EMBEDDING_SIZE),
                embedding=nn.BatchNorm1d(EMBEDDING_SIZE, eps=BN_EPS),
            )
        )


def arcface() -> ArcFaceNet:
    """deepface's ArcFace network, untrained (load ``arcface_weights.pth`` into it)."""
    return ArcFaceNet()
