"""GhostFaceNet (GhostFaceNetV1 backbone, width 1.3, PReLU everywhere ReLU was) read out by a
global depthwise convolution to a batch-normalised 512-d embedding (deepface's
``GhostFaceNet``; HamadYA/GhostFaceNets' ``GhostFaceNet_W1.3_S1_ArcFace`` weights)."""

from typing import Any, NamedTuple, Optional, Tuple

from deepface.commons.logger import get_logger
from deepface.commons.backend_utils import ONNX, PYTORCH, TENSORFLOW
from deepface.models.engines import Network
from deepface.models.facial_recognition.network_base import NetworkRecognition
from deepface.models.facial_recognition.keras_base import keras, load_keras_weights

logger = get_logger(__name__)

WEIGHT_FILE = "ghostfacenet_v1.h5"
WEIGHTS_URL = (
    "https://github.com/HamadYA/GhostFaceNets/releases/download/v1.2/GhostFaceNet_W1.3_S1_ArcFace.h5"
)
INPUT_SIZE = 112
EMBEDDING = 512
STEM_FILTERS = 20
HEAD_FILTERS = 664
PRELU_ALPHA = 0.25  # the PReLUs' initial slope (the weight file overrides it)


class Bottleneck(NamedTuple):
    """One ghost bottleneck: ghost module (expand) -> [strided depthwise] -> [SE] -> ghost
    module (project), plus a shortcut."""

    dw_kernel: int  # kernel of the strided depthwise convolutions
    stride: int
    expand: int  # channels after the first ghost module
    out: int  # channels after the second
    se_reduction: int  # squeeze-and-excite bottleneck width; 0 for none


BOTTLENECKS: Tuple[Bottleneck, ...] = tuple(
    Bottleneck(*row)
    for row in (
        (3, 1, 20, 20, 0),
        (3, 2, 64, 32, 0),
        (3, 1, 92, 32, 0),
        (5, 2, 92, 52, 24),
        (5, 1, 156, 52, 40),
        (3, 2, 312, 104, 0),
        (3, 1, 260, 104, 0),
        (3, 1, 240, 104, 0),
        (3, 1, 240, 104, 0),
        (3, 1, 624, 144, 156),
        (3, 1, 872, 144, 220),
        (5, 2, 872, 208, 220),
        (5, 1, 1248, 208, 0),
        (5, 1, 1248, 208, 312),
        (5, 1, 1248, 208, 0),
        (5, 1, 664, 208, 168),
    )
)


def _bn(**options: Any) -> Any:
    return keras().layers.BatchNormalization(axis=-1, **options)


def _prelu(**options: Any) -> Any:
    k = keras()
    slope = k.initializers.Constant(PRELU_ALPHA)
    return k.layers.PReLU(shared_axes=[1, 2], alpha_initializer=slope, **options)


def _conv(filters: int, kernel: int, **options: Any) -> Any:
    return keras().layers.Conv2D(filters, kernel, **options)


def _depthwise(kernel: int, stride: int) -> Any:
    return keras().layers.DepthwiseConv2D(kernel, stride, padding="same", use_bias=False)


def _ghost_module(x: Any, out: int, activate: bool) -> Any:
    """Half the channels from a 1x1 convolution, the other half a cheap 3x3 depthwise
    convolution of those; each BN-ed (and PReLU-ed when ``activate``), concatenated."""
    primary = _bn()(_conv(out // 2, 1, padding="same", use_bias=False)(x))
    if activate:
        primary = _prelu()(primary)
    cheap = _bn()(_depthwise(3, 1)(primary))
    if activate:
        cheap = _prelu()(cheap)
    return keras().layers.Concatenate()([primary, cheap])


def _squeeze_excite(x: Any, reduction: int) -> Any:
    """Channel gates: global mean -> 1x1 conv -> PReLU -> 1x1 conv -> hard sigmoid."""
    layers = keras().layers
    channels = x.shape[-1]
    gate = layers.GlobalAveragePooling2D()(x)
    gate = layers.Reshape((1, 1, channels))(gate)
    gate = _prelu()(_conv(reduction, 1, use_bias=True)(gate))
    gate = layers.Activation("hard_sigmoid")(_conv(channels, 1, use_bias=True)(gate))
    return layers.Multiply()([x, gate])


def _bottleneck(x: Any, spec: Bottleneck, project_shortcut: bool) -> Any:
    y = _ghost_module(x, spec.expand, activate=True)
    if spec.stride > 1:
        y = _bn()(_depthwise(spec.dw_kernel, spec.stride)(y))
    if spec.se_reduction > 0:
        y = _squeeze_excite(y, spec.se_reduction)
    y = _ghost_module(y, spec.out, activate=False)
    if project_shortcut:
        shortcut = _bn()(_depthwise(spec.dw_kernel, spec.stride)(x))
        shortcut = _bn()(_conv(spec.out, 1, padding="valid", use_bias=False)(shortcut))
    else:
        shortcut = x
    return keras().layers.Add()([shortcut, y])


def _backbone(x: Any) -> Any:
    """Stem, the 16 bottlenecks of :data:`BOTTLENECKS`, and a 1x1 convolution to 664."""
    x = _prelu()(_bn()(_conv(STEM_FILTERS, 3, padding="same", use_bias=False)(x)))
    channels = STEM_FILTERS
    for spec in BOTTLENECKS:
        x = _bottleneck(x, spec, project_shortcut=spec.out != channels or spec.stride != 1)
        channels = spec.out
    return _prelu()(_bn()(_conv(HEAD_FILTERS, 1, padding="valid", use_bias=False)(x)))


def _embedding_head(x: Any) -> Any:
    """Global depthwise convolution over the whole map -> BN -> 1x1 conv to 512 -> flatten
    -> BN, then a float32 identity named ``embedding``."""
    layers = keras().layers
    x = layers.DepthwiseConv2D(x.shape[1], use_bias=False, name="GDC_dw")(x)
    x = layers.BatchNormalization(momentum=0.99, epsilon=0.001, name="GDC_batchnorm")(x)
    x = layers.Conv2D(EMBEDDING, 1, use_bias=True, name="GDC_conv")(x)
    x = layers.Flatten(name="GDC_flatten")(x)
    x = layers.BatchNormalization(momentum=0.99, epsilon=0.001, scale=True, name="pre_embedding")(x)
    return layers.Activation("linear", dtype="float32", name="embedding")(x)


def build_model() -> Any:
    """GhostFaceNetV1 and its embedding head, with deepface's weights loaded."""
    k = keras()
    inputs = k.layers.Input(shape=(INPUT_SIZE, INPUT_SIZE, 3))
    embedding = _embedding_head(_backbone(inputs))
    model = k.models.Model(inputs, embedding, name="GhostFaceNetV1")
    load_keras_weights(model, WEIGHT_FILE, WEIGHTS_URL)
    logger.debug("GhostFaceNet weights loaded from %s", WEIGHT_FILE)
    return model


#: The network on each engine: deepface's ``.h5``, ``.pth`` and ``.onnx`` files.
NETWORK = Network(
    name="GhostFaceNet",
    files={TENSORFLOW: WEIGHT_FILE, PYTORCH: "ghostfacenet_v1.pth", ONNX: "ghostfacenet_v1.onnx"},
    keras=build_model,
    torch="deepface.models.torch_nets.ghostfacenet:ghostfacenet",
    # its converted Keras graph drifts past 1e-5 of the output's scale on random weights, whose
    # float32 sums are ill-conditioned; its .onnx graph runs faster on OpenVINO, exactly
    openvino_faster=(ONNX,),
)


class GhostFaceNetClient(NetworkRecognition):
    """GhostFaceNet: 112x112 BGR faces in, 512-d embeddings out, unnormalised."""

    model_name = "GhostFaceNet"
    input_shape = (INPUT_SIZE, INPUT_SIZE)
    output_shape = EMBEDDING

    def __init__(self, device: Optional[str] = None, precision: Optional[str] = None) -> None:
        super().__init__(NETWORK, device, precision)
