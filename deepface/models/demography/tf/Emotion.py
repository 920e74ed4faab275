"""deepface's ``demography.tf.Emotion``: the network described once in
``deepface.models.demography.Emotion``, pinned to TensorFlow."""

from deepface.commons.backend_utils import TENSORFLOW
from deepface.models.demography import Emotion as network


class EmotionClient(network.EmotionClient):
    """Emotion on TensorFlow."""

    engine = TENSORFLOW
