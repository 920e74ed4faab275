"""ArcFace: a ResNet-34 with pre-activation residual blocks and PReLU, read out by a
dense layer to a batch-normalised 512-d embedding (deepface's ``ArcFace``)."""

from typing import Any, Optional, Tuple

from deepface.commons.logger import get_logger
from deepface.commons.backend_utils import ONNX, PYTORCH, TENSORFLOW
from deepface.models.engines import Network
from deepface.models.facial_recognition.network_base import NetworkRecognition
from deepface.models.facial_recognition.keras_base import keras, load_keras_weights

logger = get_logger(__name__)

WEIGHT_FILE = "arcface_weights.h5"
WEIGHTS_URL = [
    "https://github.com/serengil/deepface_models/releases/download/v1.0/arcface_weights.h5",
    "https://huggingface.co/serengil/deepface/resolve/main/arcface_weights.h5",
]
INPUT_SIZE = 112
EMBEDDING = 512
STEM_FILTERS = 64
# ResNet-34's four stages: (name prefix, filters, residual blocks). The first block of each
# stage halves the resolution and projects its shortcut with a strided 1x1 convolution.
STAGES: Tuple[Tuple[str, int, int], ...] = (
    ("conv2", 64, 3),
    ("conv3", 128, 4),
    ("conv4", 256, 6),
    ("conv5", 512, 3),
)
STAGE_STRIDE = 2
BN_EPSILON = 2e-5
BN_MOMENTUM = 0.9
DROPOUT = 0.4


def _batch_norm(name: Any = None) -> Any:
    return keras().layers.BatchNormalization(axis=3, epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=name)


def _prelu(name: str) -> Any:
    return keras().layers.PReLU(shared_axes=[1, 2], name=name)


def _padded_conv(x: Any, filters: int, stride: int, name: str) -> Any:
    """A bias-free 3x3 convolution on a 1-pixel zero-padded input."""
    layers = keras().layers
    x = layers.ZeroPadding2D(padding=1, name=f"{name}_pad")(x)
    return layers.Conv2D(
        filters, 3, strides=stride, use_bias=False, kernel_initializer="glorot_normal", name=f"{name}_conv"
    )(x)


def _projection(x: Any, filters: int, stride: int, name: str) -> Any:
    """The shortcut of a block that changes shape: strided 1x1 convolution, then BN."""
    x = keras().layers.Conv2D(
        filters, 1, strides=stride, use_bias=False, kernel_initializer="glorot_normal", name=f"{name}_0_conv"
    )(x)
    return _batch_norm(f"{name}_0_bn")(x)


def _residual_block(x: Any, filters: int, stride: int, project: bool, name: str) -> Any:
    """BN -> conv -> BN -> PReLU -> conv (strided) -> BN, added to the (projected) input."""
    shortcut = _projection(x, filters, stride, name) if project else x
    y = _batch_norm(f"{name}_1_bn")(x)
    y = _padded_conv(y, filters, 1, f"{name}_1")
    y = _batch_norm(f"{name}_2_bn")(y)
    y = _prelu(f"{name}_1_prelu")(y)
    y = _padded_conv(y, filters, stride, f"{name}_2")
    y = _batch_norm(f"{name}_3_bn")(y)
    return keras().layers.Add(name=f"{name}_add")([shortcut, y])


def _resnet34(x: Any) -> Any:
    """Stem (padded conv, BN, PReLU) and the four residual stages of :data:`STAGES`."""
    x = _padded_conv(x, STEM_FILTERS, 1, "conv1")
    x = _batch_norm("conv1_bn")(x)
    x = _prelu("conv1_prelu")(x)
    for prefix, filters, blocks in STAGES:
        for index in range(1, blocks + 1):
            first = index == 1
            stride = STAGE_STRIDE if first else 1
            x = _residual_block(x, filters, stride, project=first, name=f"{prefix}_block{index}")
    return x


def _embedding_head(x: Any) -> Any:
    """BN -> dropout -> flatten -> dense 512 -> BN named ``embedding``."""
    layers = keras().layers
    x = _batch_norm()(x)
    x = layers.Dropout(DROPOUT)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(EMBEDDING, use_bias=True, kernel_initializer="glorot_normal")(x)
    return layers.BatchNormalization(
        momentum=BN_MOMENTUM, epsilon=BN_EPSILON, scale=True, name="embedding"
    )(x)


def build_model() -> Any:
    """ArcFace's ResNet-34 and embedding head, with deepface's weights loaded."""
    k = keras()
    inputs = k.layers.Input(shape=(INPUT_SIZE, INPUT_SIZE, 3))
    embedding = _embedding_head(_resnet34(inputs))
    model = k.models.Model(inputs, embedding, name="ResNet34")
    load_keras_weights(model, WEIGHT_FILE, WEIGHTS_URL)
    logger.debug("ArcFace weights loaded from %s", WEIGHT_FILE)
    return model


#: The network on each engine: deepface's ``.h5``, ``.pth`` and ``.onnx`` files.
NETWORK = Network(
    name="ArcFace",
    files={TENSORFLOW: WEIGHT_FILE, PYTORCH: "arcface_weights.pth", ONNX: "arcface_weights.onnx"},
    keras=build_model,
    torch="deepface.models.torch_nets.arcface:arcface",
)


class ArcFaceClient(NetworkRecognition):
    """ArcFace: 112x112 BGR faces in, 512-d embeddings out, unnormalised."""

    model_name = "ArcFace"
    input_shape = (INPUT_SIZE, INPUT_SIZE)
    output_shape = EMBEDDING

    def __init__(self, device: Optional[str] = None, precision: Optional[str] = None) -> None:
        super().__init__(NETWORK, device, precision)
