"""FaceNet (David Sandberg's Inception-ResNet-v1) as deepface 0.0.103's PyTorch engine holds it.

160x160x3 BGR faces in (NCHW), the bottleneck's batch-normalised embedding out: 128-d in
``facenet_weights.pth``, 512-d in ``facenet512_weights.pth``. That is deepface's raw output;
FaceNet's embedding is not l2-normalised.

The network is one table: the stem's layers, then stages that are either a run of residual
blocks (``block35``, ``block17``, ``block8``) or a reduction (``mixed_6a``, ``mixed_7a``). A
branch of one convolution is that convolution; a longer branch is an ``nn.Sequential`` (this
decides the state dict's keys: ``mixed_6a.branch_0.conv`` but ``mixed_7a.branch_0.0.conv``).
"""

from dataclasses import dataclass
from typing import List, Tuple, Union

import torch
from torch import Tensor, nn

Kernel = Union[int, Tuple[int, int]]

#: Keras' BatchNormalization epsilon in deepface's FaceNet (its gamma is fixed at 1: ``scale=False``).
BN_EPSILON = 1e-3
#: A branch (or a stem layer) that is a 3x3 max-pool of stride 2, without padding.
MAX_POOL = "max_pool"


@dataclass(frozen=True)
class Conv:
    """A bias-free convolution, batch norm and ReLU; ``same`` zero-pads a stride-1 convolution
    so that it keeps its grid, otherwise the convolution is unpadded ("valid")."""

    filters: int
    kernel: Kernel
    stride: int = 1
    same: bool = True


Branch = Union[Tuple[Conv, ...], str]  # a chain of convolutions, or MAX_POOL


@dataclass(frozen=True)
class ResidualStage:
    """``repeats`` blocks computing relu(x + scale * up(concat(branches))), ``up`` a biased 1x1
    convolution back to x's channels. ``linear_last`` appends one more block, unscaled and
    without the ReLU (FaceNet's last block)."""

    name: str
    repeats: int
    scale: float
    branches: Tuple[Branch, ...]
    linear_last: bool = False


@dataclass(frozen=True)
class ReductionStage:
    """Strided branches (and a max-pool) concatenated: the grid shrinks, the channels grow."""

    name: str
    branches: Tuple[Branch, ...]


def _valid(filters: int, stride: int = 1) -> Conv:
    """A 3x3 convolution without padding."""
    return Conv(filters, 3, stride=stride, same=False)


#: 160x160x3 -> 17x17x256
STEM: Tuple[Tuple[str, Union[Conv, str]], ...] = (
    ("conv2d_1a_3x3", _valid(32, stride=2)),
    ("conv2d_2a_3x3", _valid(32)),
    ("conv2d_2b_3x3", Conv(64, 3)),
    ("maxpool_3a_3x3", MAX_POOL),
    ("conv2d_3b_1x1", Conv(80, 1)),
    ("conv2d_4a_3x3", _valid(192)),
    ("conv2d_4b_3x3", _valid(256, stride=2)),
)

#: 17x17x256 -> 3x3x1792, in order
STAGES: Tuple[Union[ResidualStage, ReductionStage], ...] = (
    ResidualStage(
        "block35", 5, 0.17,
        ((Conv(32, 1),), (Conv(32, 1), Conv(32, 3)), (Conv(32, 1), Conv(32, 3), Conv(32, 3))),
    ),
    ReductionStage(
        "mixed_6a",
        ((_valid(384, stride=2),), (Conv(192, 1), Conv(192, 3), _valid(256, stride=2)), MAX_POOL),
    ),
    ResidualStage(
        "block17", 10, 0.1,
        ((Conv(128, 1),), (Conv(128, 1), Conv(128, (1, 7)), Conv(128, (7, 1)))),
    ),
    ReductionStage(
        "mixed_7a",
        (
            (Conv(256, 1), _valid(384, stride=2)),
            (Conv(256, 1), _valid(256, stride=2)),
            (Conv(256, 1), Conv(256, 3), _valid(256, stride=2)),
            MAX_POOL,
        ),
    ),
    ResidualStage(
        "block8", 5, 0.2,
        ((Conv(192, 1),), (Conv(192, 1), Conv(192, (1, 3)), Conv(192, (3, 1)))),
        linear_last=True,
    ),
)


class ConvBn(nn.Module):
    """Convolution (no bias), batch norm, ReLU: keys ``conv.weight`` and ``bn.*``."""

    def __init__(self, in_channels: int, spec: Conv) -> None:
        super().__init__()
        kernel = (spec.kernel, spec.kernel) if isinstance(spec.kernel, int) else spec.kernel
        if spec.same and spec.stride != 1:
            raise ValueError("'same' padding is symmetric only for stride 1")
        padding = (kernel[0] // 2, kernel[1] // 2) if spec.same else (0, 0)
        self.conv = nn.Conv2d(in_channels, spec.filters, kernel, stride=spec.stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(spec.filters, eps=BN_EPSILON)

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(self.bn(self.conv(x)))


def _build_branch(in_channels: int, branch: Branch) -> Tuple[nn.Module, int]:
    """The branch's module and its output channels."""
    if branch == MAX_POOL:
        return nn.MaxPool2d(3, stride=2), in_channels
    layers: List[nn.Module] = []
    channels = in_channels
    for conv in branch:
        layers.append(ConvBn(channels, conv))
        channels = conv.filters
    return (layers[0] if len(layers) == 1 else nn.Sequential(*layers)), channels


class Branches(nn.Module):
    """Parallel branches ``branch_0``, ``branch_1``, ... whose outputs are concatenated."""

    def __init__(self, in_channels: int, branches: Tuple[Branch, ...]) -> None:
        super().__init__()
        self.out_channels = 0
        self._names: List[str] = []
        for index, branch in enumerate(branches):
            module, channels = _build_branch(in_channels, branch)
            self.add_module(f"branch_{index}", module)
            self._names.append(f"branch_{index}")
            self.out_channels += channels

    def concat(self, x: Tensor) -> Tensor:
        return torch.cat([getattr(self, name)(x) for name in self._names], dim=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.concat(x)


class Residual(Branches):
    """An Inception-ResNet block: x + scale * up(concat(branches)), then ReLU if ``activate``."""

    def __init__(self, channels: int, branches: Tuple[Branch, ...], scale: float, activate: bool = True) -> None:
        super().__init__(channels, branches)
        self.up = nn.Conv2d(self.out_channels, channels, kernel_size=1)
        self.scale, self.activate = scale, activate
        self.out_channels = channels

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.scale * self.up(self.concat(x))
        return torch.relu(x) if self.activate else x


def _residual_stage(channels: int, stage: ResidualStage) -> nn.Sequential:
    """The stage's blocks, numbered from 0 (keys ``block35.0.branch_0...``)."""
    blocks = [Residual(channels, stage.branches, stage.scale) for _ in range(stage.repeats)]
    if stage.linear_last:
        blocks.append(Residual(channels, stage.branches, 1.0, activate=False))
    return nn.Sequential(*blocks)


class FaceNet(nn.Module):
    """Inception-ResNet-v1 ending in a bias-free ``dimension``-d projection and batch norm."""

    def __init__(self, dimension: int) -> None:
        super().__init__()
        self._trunk: List[str] = []
        channels = 3
        for name, layer in STEM:
            module, channels = _build_branch(channels, layer if layer == MAX_POOL else (layer,))
            self._add_trunk(name, module)
        for stage in STAGES:
            if isinstance(stage, ResidualStage):
                self._add_trunk(stage.name, _residual_stage(channels, stage))
            else:
                reduction = Branches(channels, stage.branches)
                channels = reduction.out_channels
                self._add_trunk(stage.name, reduction)
        self.bottleneck = nn.Linear(channels, dimension, bias=False)
        self.bottleneck_bn = nn.BatchNorm1d(dimension, eps=BN_EPSILON)

    def _add_trunk(self, name: str, module: nn.Module) -> None:
        self.add_module(name, module)
        self._trunk.append(name)

    def forward(self, x: Tensor) -> Tensor:
        """(n, 3, 160, 160) BGR -> (n, dimension) embeddings (dropout: identity at inference)."""
        for name in self._trunk:
            x = getattr(self, name)(x)
        return self.bottleneck_bn(self.bottleneck(x.mean(dim=(2, 3))))


def facenet128() -> FaceNet:
    """deepface's "Facenet" (``facenet_weights.pth``)."""
    return FaceNet(128)


def facenet512() -> FaceNet:
    """deepface's "Facenet512" (``facenet512_weights.pth``)."""
    return FaceNet(512)
