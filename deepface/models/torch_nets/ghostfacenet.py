"""GhostFaceNet (GhostFaceNetV1 backbone) in PyTorch, as deepface 0.0.103's
``ghostfacenet_v1.pth`` holds it.

A 3x3 stem, sixteen ghost bottlenecks (table :data:`BOTTLENECKS`), a 1x1 convolution to
664 channels, then a global depthwise 7x7 convolution, a 1x1 convolution to 512 and a
batch norm: the raw 512-d embedding, before any l2 normalisation. The network was trained
in Keras: every convolution pads as TensorFlow's ``"same"`` does (the extra pixel of an
odd total at the bottom and right), every batch norm has Keras' epsilon, and the
squeeze-and-excitation gates use Keras' hard sigmoid (``0.2 x + 0.5``, clipped).

State-dict keys: ``stem``, ``bottlenecks.<k>.{ghost_1,downsample,se,ghost_2,shortcut}``,
``tail``, ``gdc_dw``, ``gdc_bn``, ``gdc_conv``, ``pre_embedding``; a convolution unit
holds ``conv``, ``bn`` and, when activated, ``prelu``.
"""

from collections import OrderedDict
from typing import NamedTuple, Optional, Tuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

INPUT_SIZE = 112
STEM_CHANNELS = 20
TAIL_CHANNELS = 664
EMBEDDING_SIZE = 512
FINAL_MAP = INPUT_SIZE // 16  # four stride-2 bottlenecks: 7x7
BN_EPS = 1e-3  # Keras' default


class Bottleneck(NamedTuple):
    """One ghost bottleneck's shape."""

    kernel: int  # of its strided depthwise convolutions (main path and shortcut)
    stride: int
    expand: int  # channels after the first ghost module
    out: int  # channels after the second
    squeeze: int  # squeeze-and-excitation width; 0 for none


BOTTLENECKS: Tuple[Bottleneck, ...] = tuple(
    Bottleneck(*row)
    for row in (
        (3, 1, 20, 20, 0),
        (3, 2, 64, 32, 0),
        (3, 1, 92, 32, 0),
        (5, 2, 92, 52, 24),
        (5, 1, 156, 52, 40),
        (3, 2, 312, 104, 0),
        (3, 1, 260, 104, 0),
        (3, 1, 240, 104, 0),
        (3, 1, 240, 104, 0),
        (3, 1, 624, 144, 156),
        (3, 1, 872, 144, 220),
        (5, 2, 872, 208, 220),
        (5, 1, 1248, 208, 0),
        (5, 1, 1248, 208, 312),
        (5, 1, 1248, 208, 0),
        (5, 1, 664, 208, 168),
    )
)


def tf_same_pad(x: Tensor, kernel: int, stride: int) -> Tensor:
    """``x`` zero-padded as TensorFlow's ``"same"`` convolution pads it."""
    pads = []
    for size in (x.shape[-1], x.shape[-2]):  # F.pad lists the last dimension first
        total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads) if any(pads) else x


def hard_sigmoid(x: Tensor) -> Tensor:
    """Keras' hard sigmoid: ``0.2 x + 0.5`` clipped to ``[0, 1]`` (not torch's ``x / 6``)."""
    return torch.clamp(x * 0.2 + 0.5, 0.0, 1.0)


class ConvUnit(nn.Module):
    """A bias-free convolution (depthwise when ``depthwise``) with "same" padding, batch
    norm and, when ``activate``, a per-channel PReLU."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel: int, stride: int = 1,
        depthwise: bool = False, activate: bool = True,
    ) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride
        groups = in_channels if depthwise else 1
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride=stride, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=BN_EPS)
        self.prelu: Optional[nn.PReLU] = nn.PReLU(out_channels) if activate else None

    def forward(self, x: Tensor) -> Tensor:
        x = self.bn(self.conv(tf_same_pad(x, self.kernel, self.stride)))
        return x if self.prelu is None else self.prelu(x)


class GhostModule(nn.Module):
    """Half the output channels from a 1x1 convolution, the other half from a depthwise
    3x3 convolution of that half."""

    def __init__(self, in_channels: int, out_channels: int, activate: bool) -> None:
        super().__init__()
        half = out_channels // 2
        self.primary = ConvUnit(in_channels, half, 1, activate=activate)
        self.cheap = ConvUnit(half, half, 3, depthwise=True, activate=activate)

    def forward(self, x: Tensor) -> Tensor:
        primary = self.primary(x)
        return torch.cat([primary, self.cheap(primary)], dim=1)


class SqueezeExcite(nn.Module):
    """Channel gate: global mean -> 1x1 conv -> PReLU -> 1x1 conv -> hard sigmoid."""

    def __init__(self, channels: int, width: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, width, 1)
        self.prelu = nn.PReLU(width)
        self.expand = nn.Conv2d(width, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        gate = self.prelu(self.reduce(x.mean(dim=(2, 3), keepdim=True)))
        return x * hard_sigmoid(self.expand(gate))


class GhostBottleneck(nn.Module):
    """Ghost module (expand) -> [strided depthwise] -> [squeeze-excite] -> ghost module
    (project, linear), added to the input or, where the shape changes, to its projection
    (strided depthwise + 1x1 convolution)."""

    def __init__(self, in_channels: int, spec: Bottleneck) -> None:
        super().__init__()
        self.ghost_1 = GhostModule(in_channels, spec.expand, activate=True)
        self.downsample: Optional[ConvUnit] = None
        if spec.stride > 1:
            self.downsample = ConvUnit(
                spec.expand, spec.expand, spec.kernel, spec.stride, depthwise=True, activate=False
            )
        self.se: Optional[SqueezeExcite] = SqueezeExcite(spec.expand, spec.squeeze) if spec.squeeze else None
        self.ghost_2 = GhostModule(spec.expand, spec.out, activate=False)
        self.shortcut: Optional[nn.Sequential] = None
        if spec.stride != 1 or spec.out != in_channels:
            self.shortcut = nn.Sequential(
                ConvUnit(in_channels, in_channels, spec.kernel, spec.stride, depthwise=True, activate=False),
                ConvUnit(in_channels, spec.out, 1, activate=False),
            )

    def forward(self, x: Tensor) -> Tensor:
        y = self.ghost_1(x)
        for gate in (self.downsample, self.se):
            if gate is not None:
                y = gate(y)
        y = self.ghost_2(y)
        return (x if self.shortcut is None else self.shortcut(x)) + y


def _bottlenecks() -> nn.Sequential:
    blocks, channels = [], STEM_CHANNELS
    for spec in BOTTLENECKS:
        blocks.append(GhostBottleneck(channels, spec))
        channels = spec.out
    return nn.Sequential(*blocks)


class GhostFaceNetV1(nn.Sequential):
    """``(n, 3, 112, 112)`` BGR faces (deepface's GhostFaceNet normalisation) -> ``(n, 512)``."""

    def __init__(self) -> None:
        super().__init__(
            OrderedDict(
                stem=ConvUnit(3, STEM_CHANNELS, 3),
                bottlenecks=_bottlenecks(),
                tail=ConvUnit(BOTTLENECKS[-1].out, TAIL_CHANNELS, 1),
                gdc_dw=nn.Conv2d(TAIL_CHANNELS, TAIL_CHANNELS, FINAL_MAP, groups=TAIL_CHANNELS, bias=False),
                gdc_bn=nn.BatchNorm2d(TAIL_CHANNELS, eps=BN_EPS),
                gdc_conv=nn.Conv2d(TAIL_CHANNELS, EMBEDDING_SIZE, 1),
                flatten=nn.Flatten(),
                pre_embedding=nn.BatchNorm1d(EMBEDDING_SIZE, eps=BN_EPS),
            )
        )


def ghostfacenet() -> GhostFaceNetV1:
    """deepface's GhostFaceNet network, untrained (load ``ghostfacenet_v1.pth`` into it)."""
    return GhostFaceNetV1()
