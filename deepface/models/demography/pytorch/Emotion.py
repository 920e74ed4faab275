"""deepface's ``demography.pytorch.Emotion``: the network described once in
``deepface.models.demography.Emotion``, pinned to PyTorch."""

from deepface.commons.backend_utils import PYTORCH
from deepface.models.demography import Emotion as network


class EmotionClient(network.EmotionClient):
    """Emotion on PyTorch."""

    engine = PYTORCH
