"""DeepID: a small two-branch network on 55x47 faces; its 160-d ReLU layer ``deepid`` is
deepface's DeepID embedding."""

from typing import Any, Optional, Tuple

from deepface.commons.logger import get_logger
from deepface.commons.backend_utils import ONNX, PYTORCH, TENSORFLOW
from deepface.models.engines import Network
from deepface.models.facial_recognition.network_base import NetworkRecognition
from deepface.models.facial_recognition.keras_base import keras, load_keras_weights

logger = get_logger(__name__)

WEIGHT_FILE = "deepid_keras_weights.h5"
WEIGHTS_URL = [
    "https://github.com/serengil/deepface_models/releases/download/v1.0/deepid_keras_weights.h5",
    "https://huggingface.co/serengil/deepface/resolve/main/deepid_keras_weights.h5",
]
WIDTH, HEIGHT = 47, 55
EMBEDDING = 160
# The trunk: (layer name, filters, square kernel), each a ReLU convolution followed by a
# 2x2 max-pool and a dropout (a no-op at inference).
TRUNK: Tuple[Tuple[str, int, int], ...] = (("Conv1", 20, 4), ("Conv2", 40, 3), ("Conv3", 60, 3))
# The second branch's extra convolution on top of the trunk.
BRANCH_CONV: Tuple[str, int, int] = ("Conv4", 80, 2)
DROPOUT = 0.99


def _trunk(x: Any) -> Any:
    """Conv -> max-pool -> dropout, once per entry of :data:`TRUNK`."""
    layers = keras().layers
    for stage, (name, filters, kernel) in enumerate(TRUNK, start=1):
        x = layers.Conv2D(filters, (kernel, kernel), activation="relu", name=name)(x)
        x = layers.MaxPooling2D(pool_size=2, strides=2, name=f"Pool{stage}")(x)
        x = layers.Dropout(rate=DROPOUT, name=f"D{stage}")(x)
    return x


def build_model() -> Any:
    """DeepID with deepface's weights: two dense read-outs of the trunk (one after an
    extra convolution) are summed and passed through a ReLU."""
    k = keras()
    layers = k.layers
    inputs = layers.Input(shape=(HEIGHT, WIDTH, 3))
    trunk = _trunk(inputs)

    direct = layers.Dense(EMBEDDING, name="fc11")(layers.Flatten()(trunk))
    name, filters, kernel = BRANCH_CONV
    branch = layers.Conv2D(filters, (kernel, kernel), activation="relu", name=name)(trunk)
    convolved = layers.Dense(EMBEDDING, name="fc12")(layers.Flatten()(branch))

    summed = layers.Add()([direct, convolved])
    embedding = layers.Activation("relu", name="deepid")(summed)
    model = k.models.Model(inputs=[inputs], outputs=embedding)
    load_keras_weights(model, WEIGHT_FILE, WEIGHTS_URL)
    logger.debug("DeepID weights loaded from %s", WEIGHT_FILE)
    return model


#: The network on each engine: deepface's ``.h5``, ``.pth`` and ``.onnx`` files.
NETWORK = Network(
    name="DeepID",
    files={TENSORFLOW: WEIGHT_FILE, PYTORCH: "deepid_weights.pth", ONNX: "deepid_weights.onnx"},
    keras=build_model,
    torch="deepface.models.torch_nets.deepid:deepid",
)


class DeepIdClient(NetworkRecognition):
    """DeepID: 47x55 (width x height) BGR faces in, 160-d embeddings out, unnormalised."""

    model_name = "DeepId"  # deepface's registry calls it "DeepID"; its client says "DeepId"
    input_shape = (WIDTH, HEIGHT)
    output_shape = EMBEDDING

    def __init__(self, device: Optional[str] = None, precision: Optional[str] = None) -> None:
        super().__init__(NETWORK, device, precision)
