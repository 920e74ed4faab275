"""deepface's facial expression network, as ``facial_expression_model_weights.pth`` holds it.

Input: ``(n, 1, 48, 48)`` grayscale faces scaled to ``[0, 1]``. Five unpadded 3x3/5x5
convolutions with ReLUs in three stages (a max pool after the first, average pools after
the other two) shrink the face to a 128-vector; two 1024-unit ReLU layers and a
7-way softmax follow.
"""

from typing import Tuple

import torch
from torch import nn
from torch.nn import functional as F

INPUT_SIZE = 48
CLASSES = 7
HIDDEN = 1024
#: Each stage: its convolutions (name, input channels, output channels, kernel) with
#: ReLUs, then its pool (kind, kernel, stride).
STAGES: Tuple[Tuple[Tuple[Tuple[str, int, int, int], ...], Tuple[str, int, int]], ...] = (
    ((("conv_1", 1, 64, 5),), ("max", 5, 2)),
    ((("conv_2", 64, 64, 3), ("conv_3", 64, 64, 3)), ("avg", 3, 2)),
    ((("conv_4", 64, 128, 3), ("conv_5", 128, 128, 3)), ("avg", 3, 2)),
)
POOLS = {"max": F.max_pool2d, "avg": F.avg_pool2d}


def _flat_features() -> int:
    """The length of the last stage's output, flattened (a 1x1 map of 128 channels)."""
    size = INPUT_SIZE
    for convolutions, (_, kernel, stride) in STAGES:
        size -= sum(conv_kernel - 1 for *_, conv_kernel in convolutions)
        size = (size - kernel) // stride + 1
    return STAGES[-1][0][-1][2] * size * size


class EmotionNet(nn.Module):
    """Seven emotion probabilities of a 48x48 grayscale face (deepface's layer names)."""

    def __init__(self) -> None:
        super().__init__()
        for convolutions, _ in STAGES:
            for name, channels_in, channels_out, kernel in convolutions:
                self.add_module(name, nn.Conv2d(channels_in, channels_out, kernel))
        self.fc_1 = nn.Linear(_flat_features(), HIDDEN)
        self.fc_2 = nn.Linear(HIDDEN, HIDDEN)
        self.fc_3 = nn.Linear(HIDDEN, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for convolutions, (kind, kernel, stride) in STAGES:
            for name, *_ in convolutions:
                x = F.relu(getattr(self, name)(x))
            x = POOLS[kind](x, kernel, stride)
        x = F.relu(self.fc_2(F.relu(self.fc_1(x.flatten(1)))))
        return torch.softmax(self.fc_3(x), dim=1)


def emotion() -> nn.Module:
    """The emotion network, raw output: ``(n, 7)`` probabilities."""
    return EmotionNet()
