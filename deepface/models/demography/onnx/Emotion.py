"""deepface's ``demography.onnx.Emotion``: the network described once in
``deepface.models.demography.Emotion``, pinned to ONNX Runtime."""

from deepface.commons.backend_utils import ONNX
from deepface.models.demography import Emotion as network


class EmotionClient(network.EmotionClient):
    """Emotion on ONNX Runtime."""

    engine = ONNX
