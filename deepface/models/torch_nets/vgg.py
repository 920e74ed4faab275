"""VGG-Face (Parkhi et al., 2015) and deepface's age, gender and race networks built on
its trunk, as deepface's ``.pth`` files hold them.

Input: ``(n, 3, 224, 224)`` BGR faces. The trunk: five blocks of padded 3x3 convolutions
with ReLUs, each ended by a 2x2 max pool, then ``fc6`` (a 7x7 convolution over the 7x7
map) and ``fc7`` (1x1), both with ReLUs: a 4096-vector a face. VGG-Face's file also holds
``fc8``, its 2622-identity classifier, which deepface's descriptor does not use. The
attribute networks hold the trunk under ``backbone.`` and a 1x1 convolution
``predictions`` to their classes, followed by a softmax.
"""

from typing import Tuple

import torch
from torch import nn
from torch.nn import functional as F

INPUT_SIZE = 224
FC_UNITS = 4096
IDENTITIES = 2622
POOL = 2
#: (output channels, convolutions) of each block; block b's layers are conv{b}_{i}.
BLOCKS: Tuple[Tuple[int, int], ...] = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
#: The classes of deepface's attribute networks on the trunk.
AGE_CLASSES, GENDER_CLASSES, RACE_CLASSES = 101, 2, 6


def _last_map_size() -> int:
    """The trunk's spatial size before fc6: 224 halved once a block (7)."""
    return INPUT_SIZE // POOL ** len(BLOCKS)


class VggFaceTrunk(nn.Module):
    """VGG-Face's convolutions, ``fc6`` and ``fc7``, with ``fc8`` when ``identities``."""

    def __init__(self, identities: bool) -> None:
        super().__init__()
        channels_in = 3
        for block, (channels, convolutions) in enumerate(BLOCKS, start=1):
            for index in range(1, convolutions + 1):
                self.add_module(f"conv{block}_{index}", nn.Conv2d(channels_in, channels, 3, padding=1))
                channels_in = channels
        self.fc6 = nn.Conv2d(channels_in, FC_UNITS, _last_map_size())
        self.fc7 = nn.Conv2d(FC_UNITS, FC_UNITS, 1)
        self.fc8 = nn.Conv2d(FC_UNITS, IDENTITIES, 1) if identities else None

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The ``(n, 4096)`` fc7 output (after its ReLU)."""
        for block, (_, convolutions) in enumerate(BLOCKS, start=1):
            for index in range(1, convolutions + 1):
                x = F.relu(getattr(self, f"conv{block}_{index}")(x))
            x = F.max_pool2d(x, POOL)
        x = F.relu(self.fc6(x))
        return F.relu(self.fc7(x)).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


class VggFaceClassifier(nn.Module):
    """The trunk (``backbone``, without fc8) with a 1x1 convolution to ``classes`` scores
    (``predictions``); returns their softmax."""

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.backbone = VggFaceTrunk(identities=False)
        self.predictions = nn.Conv2d(FC_UNITS, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.backbone.features(x)
        # a 1x1 convolution over a 1x1 map is a linear map of the flat features
        scores = F.linear(features, self.predictions.weight.flatten(1), self.predictions.bias)
        return torch.softmax(scores, dim=1)


def vgg_face() -> nn.Module:
    """VGG-Face's descriptor, raw output: the ``(n, 4096)`` fc7 vector (not yet l2-normalised)."""
    return VggFaceTrunk(identities=True)


def age() -> nn.Module:
    """deepface's age network, raw output: ``(n, 101)`` probabilities of ages 0 to 100."""
    return VggFaceClassifier(AGE_CLASSES)


def gender() -> nn.Module:
    """deepface's gender network, raw output: ``(n, 2)`` probabilities (woman, man)."""
    return VggFaceClassifier(GENDER_CLASSES)


def race() -> nn.Module:
    """deepface's race network, raw output: ``(n, 6)`` probabilities."""
    return VggFaceClassifier(RACE_CLASSES)
