"""OpenFace (nn4.small2) as deepface 0.0.103's PyTorch engine holds it (``openface_weights.pth``).

96x96x3 BGR faces in (NCHW), an l2-normalised 128-d embedding out: deepface's OpenFace ends
in its normalisation, so that is its raw output.

Every inception module is a row of :data:`MODULES`. Its branches are concatenated in the
order 3x3, 5x5, pool, 1x1 (each present or not); the pool branch pools (a 3x3 max-pool of
stride 2 or an L2 pool of 3x3 windows, stride 3), optionally projects by a 1x1 convolution
and zero-pads back to the module's grid.

Facts that decide the output, as deepface's Keras graph computes them:
  - local response normalisation is TensorFlow's ``tf.nn.lrn(alpha=1e-4, beta=0.75)``:
    ``x / (1 + alpha * sum of x**2 over 11 channels) ** beta``;
  - max-pools pad with zeros (Keras ``ZeroPadding2D``), not with minus infinity;
  - l2-normalisation divides by ``sqrt(max(sum x**2, 1e-12))`` (Keras' ``l2_normalize``).
"""

from dataclasses import dataclass
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

BN_EPSILON = 1e-5
LRN_DEPTH_RADIUS = 5
LRN_ALPHA = 1e-4
LRN_BETA = 0.75
LRN_BIAS = 1.0
L2_NORM_EPSILON = 1e-12
EMBEDDING_SIZE = 128

Padding = Tuple[int, int, int, int]  # left, right, top, bottom (F.pad's order)


@dataclass(frozen=True)
class Reduce:
    """A 1x1 reduction to ``reduce`` channels, then a padded ``size`` x ``size`` convolution."""

    reduce: int
    filters: int
    stride: int = 1


@dataclass(frozen=True)
class Pool:
    """The pooling branch: ``kind`` is ``"max"`` or ``"l2"``; ``filters`` a 1x1 projection."""

    kind: str
    padding: Padding
    filters: Optional[int] = None


@dataclass(frozen=True)
class Inception:
    """One inception module's branches (``None``: absent)."""

    name: str
    branch_3x3: Reduce
    branch_5x5: Optional[Reduce]
    pool: Pool
    branch_1x1: Optional[int]


def _pad(size: int) -> Padding:
    return (size, size, size, size)


BOTTOM_RIGHT: Padding = (0, 1, 0, 1)

#: 12x12x192 -> 3x3x736; each module's input channels are the previous one's output
MODULES: Tuple[Inception, ...] = (
    Inception("inception_3a", Reduce(96, 128), Reduce(16, 32), Pool("max", (3, 4, 3, 4), 32), 64),
    Inception("inception_3b", Reduce(96, 128), Reduce(32, 64), Pool("l2", _pad(4), 64), 64),
    Inception("inception_3c", Reduce(128, 256, 2), Reduce(32, 64, 2), Pool("max", BOTTOM_RIGHT), None),
    Inception("inception_4a", Reduce(96, 192), Reduce(32, 64), Pool("l2", _pad(2), 128), 256),
    Inception("inception_4e", Reduce(160, 256, 2), Reduce(64, 128, 2), Pool("max", BOTTOM_RIGHT), None),
    Inception("inception_5a", Reduce(96, 384), None, Pool("l2", _pad(1), 96), 256),
    Inception("inception_5b", Reduce(96, 384), None, Pool("max", _pad(1), 96), 256),
)


class ConvBn(nn.Module):
    """Convolution (with bias), batch norm, ReLU: keys ``conv.*`` and ``bn.*``."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int = 1, padding: int = 0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=padding)
        self.bn = nn.BatchNorm2d(out_channels, eps=BN_EPSILON)

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(self.bn(self.conv(x)))


def lrn(x: Tensor) -> Tensor:
    """TensorFlow's local response normalisation across channels (``depth_radius`` 5).

    torch averages the squares over the window where TensorFlow sums them: alpha is
    scaled by the window's size.
    """
    size = 2 * LRN_DEPTH_RADIUS + 1
    return F.local_response_norm(x, size, alpha=LRN_ALPHA * size, beta=LRN_BETA, k=LRN_BIAS)


def zero_padded_max_pool(x: Tensor, padding: int = 0) -> Tensor:
    """3x3 max-pool of stride 2 after ``padding`` rows and columns of zeros on each side."""
    if padding:
        x = F.pad(x, _pad(padding))
    return F.max_pool2d(x, kernel_size=3, stride=2)


def l2_pool(x: Tensor) -> Tensor:
    """The L2 norm of every 3x3 window, windows stride 3 apart: sqrt(9 * mean of x**2)."""
    return torch.sqrt(F.avg_pool2d(x * x, kernel_size=3, stride=3) * 9)


def _reduce_branch(in_channels: int, spec: Reduce, size: int) -> nn.Sequential:
    return nn.Sequential(
        ConvBn(in_channels, spec.reduce, 1),
        ConvBn(spec.reduce, spec.filters, size, stride=spec.stride, padding=size // 2),
    )


class InceptionModule(nn.Module):
    """One row of :data:`MODULES`: keys ``branch_3x3``, ``branch_5x5``, ``branch_pool``
    (the pool branch's projection) and ``branch_1x1``, where present."""

    def __init__(self, in_channels: int, spec: Inception) -> None:
        super().__init__()
        self.pool = spec.pool
        self.branch_3x3 = _reduce_branch(in_channels, spec.branch_3x3, 3)
        self.out_channels = spec.branch_3x3.filters
        self.branch_5x5 = None if spec.branch_5x5 is None else _reduce_branch(in_channels, spec.branch_5x5, 5)
        self.out_channels += 0 if spec.branch_5x5 is None else spec.branch_5x5.filters
        filters = spec.pool.filters
        self.branch_pool = None if filters is None else ConvBn(in_channels, filters, 1)
        self.out_channels += in_channels if filters is None else filters
        self.branch_1x1 = None if spec.branch_1x1 is None else ConvBn(in_channels, spec.branch_1x1, 1)
        self.out_channels += spec.branch_1x1 or 0

    def _pool_branch(self, x: Tensor) -> Tensor:
        x = l2_pool(x) if self.pool.kind == "l2" else zero_padded_max_pool(x)
        if self.branch_pool is not None:
            x = self.branch_pool(x)
        return F.pad(x, self.pool.padding)

    def forward(self, x: Tensor) -> Tensor:
        outputs = [self.branch_3x3(x)]
        if self.branch_5x5 is not None:
            outputs.append(self.branch_5x5(x))
        outputs.append(self._pool_branch(x))
        if self.branch_1x1 is not None:
            outputs.append(self.branch_1x1(x))
        return torch.cat(outputs, dim=1)


class OpenFace(nn.Module):
    """nn4.small2: a stem with two LRNs, seven inception modules, average pool, dense, l2 norm."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = ConvBn(3, 64, 7, stride=2, padding=3)
        self.conv2 = ConvBn(64, 64, 1)
        self.conv3 = ConvBn(64, 192, 3, padding=1)
        channels = 192
        self._inception_names: List[str] = []
        for spec in MODULES:
            module = InceptionModule(channels, spec)
            self.add_module(spec.name, module)
            self._inception_names.append(spec.name)
            channels = module.out_channels
        self.dense_layer = nn.Linear(channels, EMBEDDING_SIZE)

    def _stem(self, x: Tensor) -> Tensor:
        """96x96x3 -> 12x12x192."""
        x = lrn(zero_padded_max_pool(self.conv1(x), padding=1))
        x = lrn(self.conv3(self.conv2(x)))
        return zero_padded_max_pool(x, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        """(n, 3, 96, 96) BGR -> (n, 128) l2-normalised embeddings."""
        x = self._stem(x)
        for name in self._inception_names:
            x = getattr(self, name)(x)
        x = F.avg_pool2d(x, kernel_size=3, stride=1).flatten(start_dim=1)
        x = self.dense_layer(x)
        return x * torch.rsqrt((x * x).sum(dim=1, keepdim=True).clamp(min=L2_NORM_EPSILON))


def openface() -> OpenFace:
    """deepface's "OpenFace" (``openface_weights.pth``)."""
    return OpenFace()
