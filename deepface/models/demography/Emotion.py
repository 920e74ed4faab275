"""Emotion: a small convolutional network on 48x48 grayscale faces, seven emotions in
deepface's order."""

from typing import Any, Optional, Tuple

import cv2
import numpy as np
from numpy.typing import NDArray

from deepface.commons.logger import get_logger
from deepface.models.demography.DemographyUtils import EMOTION_LABELS
from deepface.models.demography.keras_models import NetworkDemography, attribute_network
from deepface.models.facial_recognition.keras_base import keras, load_keras_weights

logger = get_logger(__name__)

WEIGHT_FILE = "facial_expression_model_weights.h5"
WEIGHTS_URL = [
    "https://github.com/serengil/deepface_models/releases/download/v1.0/facial_expression_model_weights.h5",
    "https://huggingface.co/serengil/deepface/resolve/main/facial_expression_model_weights.h5",
]
labels = EMOTION_LABELS  # deepface's module-level name
INPUT_SIZE = 48
# Convolutional stages: (ReLU 'valid' convolutions as (filters, square kernel), pooling
# "max" or "average", pool size); every pool has stride 2.
STAGES: Tuple[Tuple[Tuple[Tuple[int, int], ...], str, int], ...] = (
    (((64, 5),), "max", 5),
    (((64, 3), (64, 3)), "average", 3),
    (((128, 3), (128, 3)), "average", 3),
)
POOL_STRIDE = 2
DENSE_UNITS: Tuple[int, ...] = (1024, 1024)  # ReLU, each followed by a dropout
DROPOUT = 0.2


def gray_face(face: NDArray[Any]) -> NDArray[Any]:
    """A prepared BGR face as the emotion network sees it: grayscale, resized to 48x48
    (OpenCV's bilinear default), same dtype."""
    gray = cv2.cvtColor(np.asarray(face), cv2.COLOR_BGR2GRAY)
    return cv2.resize(gray, (INPUT_SIZE, INPUT_SIZE))


def emotion_input(faces: NDArray[np.float32]) -> NDArray[np.float32]:
    """``(N, H, W, 3)`` BGR faces as the network's ``(N, 48, 48, 1)`` input."""
    return np.stack([gray_face(face) for face in faces])[..., np.newaxis].astype(np.float32)


def load_model() -> Any:
    """The emotion network with deepface's weights."""
    k = keras()
    layers = k.layers
    inputs = layers.Input(shape=(INPUT_SIZE, INPUT_SIZE, 1))
    x = inputs
    for convolutions, pooling, pool_size in STAGES:
        for filters, kernel in convolutions:
            x = layers.Conv2D(filters, (kernel, kernel), activation="relu")(x)
        pool = layers.MaxPooling2D if pooling == "max" else layers.AveragePooling2D
        x = pool(pool_size=(pool_size, pool_size), strides=(POOL_STRIDE, POOL_STRIDE))(x)
    x = layers.Flatten()(x)
    for units in DENSE_UNITS:
        x = layers.Dense(units, activation="relu")(x)
        x = layers.Dropout(DROPOUT)(x)
    outputs = layers.Dense(len(EMOTION_LABELS), activation="softmax")(x)
    model = k.models.Model(inputs=inputs, outputs=outputs)
    load_keras_weights(model, WEIGHT_FILE, WEIGHTS_URL)
    logger.debug("emotion model loaded from %s", WEIGHT_FILE)
    return model


#: The network on each engine: deepface's ``.h5``, ``.pth`` and ``.onnx`` files.
NETWORK = attribute_network(
    "Emotion", "facial_expression_model_weights", WEIGHT_FILE, load_model, "emotion:emotion", vgg_trunk=False
)


class EmotionClient(NetworkDemography):
    """Emotion probabilities of BGR faces in ``[0, 1]`` (224x224 in ``analyze``; any size
    is converted to the network's 48x48 gray input)."""

    model_name = "Emotion"
    action = "emotion"
    labels = EMOTION_LABELS
    face_shape: Tuple[Optional[int], ...] = (None, None, 3)

    def __init__(self, device: Optional[str] = None, precision: Optional[str] = None) -> None:
        super().__init__(NETWORK, len(EMOTION_LABELS), device, precision)

    def network_input(self, faces: NDArray[np.float32]) -> NDArray[np.float32]:
        """Each face gray and 48x48 (:func:`gray_face`), with a channel axis."""
        return emotion_input(faces)
