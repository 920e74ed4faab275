"""DeepID (Sun et al., 2014) as deepface's ``deepid_weights.pth`` holds it.

Input: ``(n, 3, 55, 47)`` BGR faces scaled to ``[0, 1]``. Three convolutions, each with a
ReLU and a 2x2 max pool, then a fourth one; the 160-d embedding is the ReLU of the sum of
two linear maps, one from the third pooled map and one from the fourth convolution's
output (both flattened channels first, the order deepface's file was written in).
"""

from typing import Tuple

import torch
from torch import nn
from torch.nn import functional as F

INPUT_SIZE = (55, 47)  # height, width
EMBEDDING = 160
POOL = 2
#: (name, input channels, output channels, kernel); the first three are pooled.
CONVOLUTIONS: Tuple[Tuple[str, int, int, int], ...] = (
    ("Conv1", 3, 20, 4),
    ("Conv2", 20, 40, 3),
    ("Conv3", 40, 60, 3),
    ("Conv4", 60, 80, 2),
)


def _feature_grids() -> Tuple[Tuple[int, int], Tuple[int, int]]:
    """The spatial size of the third pooled map and of the fourth convolution's output."""
    height, width = INPUT_SIZE
    for _, _, _, kernel in CONVOLUTIONS[:-1]:
        height, width = (height - kernel + 1) // POOL, (width - kernel + 1) // POOL
    kernel = CONVOLUTIONS[-1][3]
    return (height, width), (height - kernel + 1, width - kernel + 1)


class DeepIdNet(nn.Module):
    """DeepID up to its 160-d embedding (deepface's layer names)."""

    def __init__(self) -> None:
        super().__init__()
        for name, channels_in, channels_out, kernel in CONVOLUTIONS:
            self.add_module(name, nn.Conv2d(channels_in, channels_out, kernel))
        (pooled_h, pooled_w), (last_h, last_w) = _feature_grids()
        self.fc11 = nn.Linear(CONVOLUTIONS[2][2] * pooled_h * pooled_w, EMBEDDING)
        self.fc12 = nn.Linear(CONVOLUTIONS[3][2] * last_h * last_w, EMBEDDING)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name, *_ in CONVOLUTIONS[:-1]:
            x = F.max_pool2d(F.relu(getattr(self, name)(x)), POOL)
        deeper = F.relu(self.Conv4(x))
        return F.relu(self.fc11(x.flatten(1)) + self.fc12(deeper.flatten(1)))


def deepid() -> nn.Module:
    """DeepID, raw output: the ``(n, 160)`` embedding."""
    return DeepIdNet()
