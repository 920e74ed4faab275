"""OpenFace (nn4.small2, a small Inception network) with deepface's Keras weights.

Each inception module is a row of :data:`MODULES`; layer names follow deepface's weight
file (``inception_3a_3x3_conv1``, ``inception_3a_pool_bn``, ...).
"""

from dataclasses import dataclass
from typing import Any, Optional, Tuple, Union

from deepface.commons.logger import get_logger
from deepface.commons.backend_utils import ONNX, PYTORCH, TENSORFLOW
from deepface.models.engines import Network
from deepface.models.facial_recognition.network_base import NetworkRecognition
from deepface.models.facial_recognition.keras_base import keras, load_keras_weights

logger = get_logger(__name__)

WEIGHT_FILE = "openface_weights.h5"
WEIGHTS_URL = [
    "https://github.com/serengil/deepface_models/releases/download/v1.0/openface_weights.h5",
    "https://huggingface.co/serengil/deepface/resolve/main/openface_weights.h5",
]
INPUT_SIZE = 96
EMBEDDING_SIZE = 128
BN_EPSILON = 0.00001
LRN_ALPHA = 1e-4
LRN_BETA = 0.75

Padding = Union[int, Tuple[Tuple[int, int], Tuple[int, int]]]


@dataclass(frozen=True)
class Reduce:
    """A 1x1 reduction then a padded ``size`` x ``size`` convolution (branch ``{size}x{size}``)."""

    size: int
    reduce: int
    filters: int
    strides: int = 1


@dataclass(frozen=True)
class Pool:
    """The pooling branch: a max-pool (3, stride 2) or an L2 pool (3, stride 3), then an
    optional 1x1 convolution, then zero padding back to the module's grid."""

    kind: str  # "max" or "l2"
    padding: Padding
    filters: Optional[int] = None


@dataclass(frozen=True)
class Module:
    """An inception module: its branches in concatenation order (``1x1`` is a plain 1x1 conv)."""

    name: str
    branches: Tuple[Union[Reduce, Pool, int], ...]  # an int: the 1x1 branch's filters


HALF = ((0, 1), (0, 1))  # pad a max-pooled branch by one row and column at the bottom right

MODULES: Tuple[Module, ...] = (
    Module("3a", (Reduce(3, 96, 128), Reduce(5, 16, 32), Pool("max", ((3, 4), (3, 4)), 32), 64)),
    Module("3b", (Reduce(3, 96, 128), Reduce(5, 32, 64), Pool("l2", (4, 4), 64), 64)),
    Module("3c", (Reduce(3, 128, 256, strides=2), Reduce(5, 32, 64, strides=2), Pool("max", HALF))),
    Module("4a", (Reduce(3, 96, 192), Reduce(5, 32, 64), Pool("l2", (2, 2), 128), 256)),
    Module("4e", (Reduce(3, 160, 256, strides=2), Reduce(5, 64, 128, strides=2), Pool("max", HALF))),
    Module("5a", (Reduce(3, 96, 384), Pool("l2", (1, 1), 96), 256)),
    Module("5b", (Reduce(3, 96, 384), Pool("max", (1, 1), 96), 256)),
)


def _conv_bn_relu(x: Any, filters: int, kernel: int, conv_name: str, bn_name: str, strides: int = 1) -> Any:
    layers = keras().layers
    x = layers.Conv2D(filters, (kernel, kernel), strides=(strides, strides), name=conv_name)(x)
    x = layers.BatchNormalization(axis=3, epsilon=BN_EPSILON, name=bn_name)(x)
    return layers.Activation("relu")(x)


def _tf() -> Any:
    """TensorFlow, imported only after :func:`keras` has prepared the process for it."""
    keras()
    import tensorflow as tf

    return tf


def _lrn(x: Any, name: str) -> Any:
    tf = _tf()
    return keras().layers.Lambda(lambda t: tf.nn.lrn(t, alpha=LRN_ALPHA, beta=LRN_BETA), name=name)(x)


def _l2_pool(x: Any, module: str) -> Any:
    """sqrt(9 * mean over 3x3 windows of x**2), deepface's L2 pooling."""
    tf = _tf()
    layers = keras().layers
    x = layers.Lambda(lambda t: t**2, name=f"power2_{module}")(x)
    x = layers.AveragePooling2D(pool_size=(3, 3), strides=(3, 3))(x)
    x = layers.Lambda(lambda t: t * 9, name=f"mult9_{module}")(x)
    return layers.Lambda(lambda t: tf.sqrt(tf.maximum(t, 0.0)), name=f"sqrt_{module}")(x)


def _reduce_branch(x: Any, prefix: str, branch: Reduce) -> Any:
    name = f"{prefix}_{branch.size}x{branch.size}"
    x = _conv_bn_relu(x, branch.reduce, 1, f"{name}_conv1", f"{name}_bn1")
    x = keras().layers.ZeroPadding2D(padding=(branch.size // 2, branch.size // 2))(x)
    return _conv_bn_relu(x, branch.filters, branch.size, f"{name}_conv2", f"{name}_bn2", branch.strides)


def _pool_branch(x: Any, prefix: str, module: str, branch: Pool) -> Any:
    layers = keras().layers
    if branch.kind == "l2":
        x = _l2_pool(x, module)
    else:
        x = layers.MaxPooling2D(pool_size=3, strides=2)(x)
    if branch.filters is not None:
        x = _conv_bn_relu(x, branch.filters, 1, f"{prefix}_pool_conv", f"{prefix}_pool_bn")
    return layers.ZeroPadding2D(padding=branch.padding)(x)


def _inception(x: Any, module: Module) -> Any:
    prefix = f"inception_{module.name}"
    outputs = []
    for branch in module.branches:
        if isinstance(branch, Reduce):
            outputs.append(_reduce_branch(x, prefix, branch))
        elif isinstance(branch, Pool):
            outputs.append(_pool_branch(x, prefix, module.name, branch))
        else:
            outputs.append(_conv_bn_relu(x, branch, 1, f"{prefix}_1x1_conv", f"{prefix}_1x1_bn"))
    return keras().layers.concatenate(outputs, axis=3)


def _stem(x: Any) -> Any:
    """7x7/2 conv, max-pool, LRN, 1x1 and 3x3 convs, LRN, max-pool: 96x96 -> 12x12x192."""
    layers = keras().layers
    x = layers.ZeroPadding2D(padding=(3, 3))(x)
    x = _conv_bn_relu(x, 64, 7, "conv1", "bn1", strides=2)
    x = layers.ZeroPadding2D(padding=(1, 1))(x)
    x = layers.MaxPooling2D(pool_size=3, strides=2)(x)
    x = _lrn(x, "lrn_1")
    x = _conv_bn_relu(x, 64, 1, "conv2", "bn2")
    x = layers.ZeroPadding2D(padding=(1, 1))(x)
    x = _conv_bn_relu(x, 192, 3, "conv3", "bn3")
    x = _lrn(x, "lrn_2")
    x = layers.ZeroPadding2D(padding=(1, 1))(x)
    return layers.MaxPooling2D(pool_size=3, strides=2)(x)


def build_model() -> Any:
    """deepface's OpenFace network with its weights: 96x96x3 in, an l2-normalised 128-d out."""
    tf = _tf()
    k = keras()
    layers = k.layers
    inputs = layers.Input(shape=(INPUT_SIZE, INPUT_SIZE, 3))
    x = _stem(inputs)
    for module in MODULES:
        x = _inception(x, module)
    x = layers.AveragePooling2D(pool_size=(3, 3), strides=(1, 1))(x)
    x = layers.Dense(EMBEDDING_SIZE, name="dense_layer")(layers.Flatten()(x))
    x = layers.Lambda(lambda t: tf.math.l2_normalize(t, axis=1), name="norm_layer")(x)
    model = k.models.Model(inputs=[inputs], outputs=x)
    load_keras_weights(model, WEIGHT_FILE, WEIGHTS_URL)
    logger.debug("OpenFace weights loaded from %s", WEIGHT_FILE)
    return model


#: The network on each engine: deepface's ``.h5``, ``.pth`` and ``.onnx`` files.
NETWORK = Network(
    name="OpenFace",
    files={TENSORFLOW: WEIGHT_FILE, PYTORCH: "openface_weights.pth", ONNX: "openface_weights.onnx"},
    keras=build_model,
    torch="deepface.models.torch_nets.openface:openface",
    openvino_faster=(),  # slower on OpenVINO than onnxruntime, and no faster than TensorFlow on a loaded CPU
)


class OpenFaceClient(NetworkRecognition):
    """OpenFace, 96x96 BGR faces in, l2-normalised 128-d embeddings out."""

    model_name = "OpenFace"
    input_shape = (INPUT_SIZE, INPUT_SIZE)
    output_shape = EMBEDDING_SIZE

    def __init__(self, device: Optional[str] = None, precision: Optional[str] = None) -> None:
        super().__init__(NETWORK, device, precision)
