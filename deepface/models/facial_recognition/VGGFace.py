"""VGG-Face: a VGG-16 network trained on 2622 identities; its 4096-d ``fc7`` activations,
l2-normalised, are deepface's VGG-Face embedding."""

from typing import Any, Optional, Tuple

import numpy as np
from numpy.typing import NDArray

from deepface.commons.logger import get_logger
from deepface.commons.backend_utils import ONNX, PYTORCH, TENSORFLOW
from deepface.models.engines import Network
from deepface.models.facial_recognition.network_base import NetworkRecognition
from deepface.models.facial_recognition.keras_base import keras, load_keras_weights

logger = get_logger(__name__)

WEIGHT_FILE = "vgg_face_weights.h5"
WEIGHTS_URL = [
    "https://github.com/serengil/deepface_models/releases/download/v1.0/vgg_face_weights.h5",
    "https://huggingface.co/serengil/deepface/resolve/main/vgg_face_weights.h5",
]
INPUT_SIZE = 224
# The five convolutional stages: (filters, 3x3 convolutions), each stage ending in a 2x2 max-pool.
CONV_STAGES: Tuple[Tuple[int, int], ...] = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
FC_UNITS = 4096  # fc6 (a 7x7 convolution) and fc7 (1x1), both ReLU
IDENTITIES = 2622  # the classifier the weight file ends with; not part of the embedding
DROPOUT = 0.5
# deepface divides by (norm + epsilon), in float64
NORM_EPSILON = 1e-10


def _conv_stages(x: Any) -> Any:
    """The VGG-16 body: padded 3x3 ReLU convolutions, a max-pool after each stage."""
    layers = keras().layers
    for filters, convolutions in CONV_STAGES:
        for _ in range(convolutions):
            x = layers.ZeroPadding2D((1, 1))(x)
            x = layers.Conv2D(filters, (3, 3), activation="relu")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2))(x)
    return x


def build_model() -> Any:
    """The descriptor deepface uses: input to the flattened ``fc7`` output, weights loaded.

    The weight file holds the whole classifier, so the classifier is built (its layers with
    weights in the file's order), loaded, and cut at ``fc7``.
    """
    k = keras()
    layers = k.layers
    inputs = layers.Input(shape=(INPUT_SIZE, INPUT_SIZE, 3))
    x = _conv_stages(inputs)
    x = layers.Conv2D(FC_UNITS, (7, 7), activation="relu")(x)  # fc6
    x = layers.Dropout(DROPOUT)(x)
    fc7 = layers.Conv2D(FC_UNITS, (1, 1), activation="relu")(x)
    x = layers.Dropout(DROPOUT)(fc7)
    x = layers.Conv2D(IDENTITIES, (1, 1))(x)  # fc8
    scores = layers.Activation("softmax")(layers.Flatten()(x))

    classifier = k.models.Model(inputs=inputs, outputs=scores)
    load_keras_weights(classifier, WEIGHT_FILE, WEIGHTS_URL)
    logger.debug("VGG-Face weights loaded from %s", WEIGHT_FILE)
    return k.models.Model(inputs=inputs, outputs=layers.Flatten()(fc7))


def l2_normalize_rows(embeddings: NDArray[np.float32]) -> NDArray[np.float32]:
    """Each row over (its norm + 1e-10), computed in float64 as deepface does."""
    wide = embeddings.astype(np.float64)
    norms = np.linalg.norm(wide, axis=1, keepdims=True)
    return (wide / (norms + NORM_EPSILON)).astype(np.float32)


#: The network on each engine: deepface's ``.h5``, ``.pth`` and ``.onnx`` files.
NETWORK = Network(
    name="VGG-Face",
    files={TENSORFLOW: WEIGHT_FILE, PYTORCH: "vgg_face_weights.pth", ONNX: "vgg_face_weights.onnx"},
    keras=build_model,
    torch="deepface.models.torch_nets.vgg:vgg_face",
)


class VggFaceClient(NetworkRecognition):
    """VGG-Face, 224x224 BGR faces in, l2-normalised 4096-d embeddings out."""

    model_name = "VGG-Face"
    input_shape = (INPUT_SIZE, INPUT_SIZE)
    output_shape = FC_UNITS

    def __init__(self, device: Optional[str] = None, precision: Optional[str] = None) -> None:
        super().__init__(NETWORK, device, precision)

    def embed_batch(self, faces: NDArray[np.float32]) -> NDArray[np.float32]:
        """fc7 activations of each face, l2-normalised row by row (deepface's ``forward``)."""
        return l2_normalize_rows(super().embed_batch(faces))
