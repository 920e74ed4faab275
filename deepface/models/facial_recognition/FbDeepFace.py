"""Facebook's DeepFace (VGGFace2-trained re-implementation by swghosh): two convolutions,
three locally connected layers and a 4096-d ReLU layer ``F7``, deepface's ``DeepFace``
embedding.

Its locally connected layers left Keras after 2.12 (Keras 3 has none), so deepface 0.0.103
refuses the model on newer TensorFlow. :func:`locally_connected_layer` gives a layer that
computes the same thing, batched, and whose weights have the layout Keras 2.12 saved, so
deepface's weight file loads into it unchanged.
"""

import functools
from typing import Any, Dict, Optional, Tuple, Union

from deepface.commons import weight_utils
from deepface.commons.logger import get_logger
from deepface.commons.backend_utils import ONNX, PYTORCH, TENSORFLOW
from deepface.models.engines import Network
from deepface.models.facial_recognition.network_base import NetworkRecognition
from deepface.models.facial_recognition.keras_base import keras

logger = get_logger(__name__)

WEIGHT_FILE = "VGGFace2_DeepFace_weights_val-0.9034.h5"
WEIGHTS_URL = (
    "https://github.com/swghosh/DeepFace/releases/download/"
    "weights-vggface2-2d-aligned/VGGFace2_DeepFace_weights_val-0.9034.h5.zip"
)
COMPRESS_TYPE = "zip"
INPUT_SIZE = 152
EMBEDDING = 4096
IDENTITIES = 8631  # the classifier F8 the weight file ends with; not part of the embedding
DROPOUT = 0.5
# Convolutions: (name, filters, square kernel), ReLU, 'valid'. Between them, M2: a 3x3
# stride-2 'same' max-pool.
FIRST_CONV: Tuple[str, int, int] = ("C1", 32, 11)
SECOND_CONV: Tuple[str, int, int] = ("C3", 16, 9)
# Locally connected layers: (name, filters, square kernel, stride), ReLU, 'valid'.
LOCALLY_CONNECTED: Tuple[Tuple[str, int, int, int], ...] = (
    ("L4", 16, 9, 1),
    ("L5", 16, 7, 2),
    ("L6", 16, 5, 1),
)

IntPair = Union[int, Tuple[int, int]]


def _pair(value: IntPair) -> Tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def valid_output_length(size: int, kernel: int, stride: int) -> int:
    """Positions of a ``kernel``-wide window moved by ``stride`` over ``size`` ('valid')."""
    return (size - kernel) // stride + 1


@functools.lru_cache(maxsize=None)
def locally_connected_layer() -> type:
    """The ``LocallyConnected2D`` Keras layer class (built on first use: it needs TensorFlow).

    A 2-D convolution whose weights are not shared: each output position ``(i, j)`` has its
    own ``kh x kw x C -> filters`` matrix. 'valid' padding, channels-last, any stride.

    Weight layout (that of Keras 2.12's ``LocallyConnected2D`` with ``implementation=1``,
    its default, which is what deepface's HDF5 file holds), in this order:

    - ``kernel``: ``(out_rows * out_cols, kh * kw * C, filters)``; row ``i * out_cols + j``
      is position ``(i, j)``'s matrix, and its input axis runs over the window flattened
      row-major as ``(kh, kw, C)``, i.e. ``x[i*sh:i*sh+kh, j*sw:j*sw+kw, :].reshape(-1)``.
    - ``bias``: ``(out_rows, out_cols, filters)``.

    All positions are computed at once: the windows are extracted in one op
    (``tf.image.extract_patches`` flattens them as ``(kh, kw, C)``, the order above), then
    one batched matrix product over positions.
    """
    import tensorflow as tf

    k = keras()

    class LocallyConnected2D(k.layers.Layer):
        """Unshared-weight 2-D convolution, 'valid' padding, channels-last (see
        :func:`locally_connected_layer` for the weight layout)."""

        def __init__(
            self,
            filters: int,
            kernel_size: IntPair,
            strides: IntPair = 1,
            activation: Any = None,
            use_bias: bool = True,
            kernel_initializer: Any = "glorot_uniform",
            bias_initializer: Any = "zeros",
            **kwargs: Any,
        ) -> None:
            super().__init__(**kwargs)
            self.filters = int(filters)
            self.kernel_size = _pair(kernel_size)
            self.strides = _pair(strides)
            self.activation = k.activations.get(activation)
            self.use_bias = use_bias
            self.kernel_initializer = k.initializers.get(kernel_initializer)
            self.bias_initializer = k.initializers.get(bias_initializer)
            self.output_grid: Optional[Tuple[int, int]] = None
            self.input_spec = k.layers.InputSpec(ndim=4)

        def build(self, input_shape: Any) -> None:
            _, rows, cols, channels = tuple(input_shape)
            if rows is None or cols is None or channels is None:
                raise ValueError(f"{self.name} needs known rows, cols and channels, got {input_shape}")
            grid = tuple(
                valid_output_length(int(size), kernel, stride)
                for size, kernel, stride in zip((rows, cols), self.kernel_size, self.strides)
            )
            if min(grid) <= 0:
                raise ValueError(f"{self.name}: input {input_shape} smaller than kernel {self.kernel_size}")
            self.output_grid = (int(grid[0]), int(grid[1]))
            window = self.kernel_size[0] * self.kernel_size[1] * int(channels)
            self.kernel = self.add_weight(
                name="kernel",
                shape=(self.output_grid[0] * self.output_grid[1], window, self.filters),
                initializer=self.kernel_initializer,
            )
            self.bias = None
            if self.use_bias:
                self.bias = self.add_weight(
                    name="bias", shape=(*self.output_grid, self.filters), initializer=self.bias_initializer
                )
            self.input_spec = k.layers.InputSpec(ndim=4, axes={-1: int(channels)})
            super().build(input_shape)

        def call(self, inputs: Any) -> Any:
            rows, cols = self.output_grid
            patches = tf.image.extract_patches(
                inputs,
                sizes=[1, *self.kernel_size, 1],
                strides=[1, *self.strides, 1],
                rates=[1, 1, 1, 1],
                padding="VALID",
            )  # (N, rows, cols, kh * kw * C)
            windows = tf.reshape(patches, (-1, rows * cols, patches.shape[-1]))
            outputs = tf.einsum("npk,pkf->npf", windows, self.kernel)
            outputs = tf.reshape(outputs, (-1, rows, cols, self.filters))
            if self.bias is not None:
                outputs = outputs + self.bias
            return self.activation(outputs)

        def compute_output_shape(self, input_shape: Any) -> Tuple[Any, ...]:
            rows, cols = (
                valid_output_length(int(size), kernel, stride)
                for size, kernel, stride in zip(tuple(input_shape)[1:3], self.kernel_size, self.strides)
            )
            return (input_shape[0], rows, cols, self.filters)

        def get_config(self) -> Dict[str, Any]:
            return {
                **super().get_config(),
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "activation": k.activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": k.initializers.serialize(self.kernel_initializer),
                "bias_initializer": k.initializers.serialize(self.bias_initializer),
            }

    return k.saving.register_keras_serializable(package="deepface")(LocallyConnected2D)


def __getattr__(name: str) -> Any:
    """``LocallyConnected2D`` is importable by name; TensorFlow loads only when it is used."""
    if name == "LocallyConnected2D":
        return locally_connected_layer()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _features(x: Any) -> Any:
    """Input to the flattened output of L6: C1, M2, C3, then L4..L6."""
    layers = keras().layers
    local = locally_connected_layer()
    name, filters, kernel = FIRST_CONV
    x = layers.Conv2D(filters, (kernel, kernel), activation="relu", name=name)(x)
    x = layers.MaxPooling2D(pool_size=3, strides=2, padding="same", name="M2")(x)
    name, filters, kernel = SECOND_CONV
    x = layers.Conv2D(filters, (kernel, kernel), activation="relu", name=name)(x)
    for name, filters, kernel, stride in LOCALLY_CONNECTED:
        x = local(filters, (kernel, kernel), strides=stride, activation="relu", name=name)(x)
    return layers.Flatten(name="F0")(x)


def build_model() -> Any:
    """Input to ``F7``, with deepface's weights.

    The weight file holds the whole classifier (through ``F8``), so the classifier is
    built, loaded from the unzipped file, and cut at ``F7``.
    """
    k = keras()
    layers = k.layers
    inputs = layers.Input(shape=(INPUT_SIZE, INPUT_SIZE, 3))
    f7 = layers.Dense(EMBEDDING, activation="relu", name="F7")(_features(inputs))
    scores = layers.Dense(IDENTITIES, activation="softmax", name="F8")(layers.Dropout(DROPOUT, name="D0")(f7))
    classifier = k.models.Model(inputs=inputs, outputs=scores)

    path = weight_utils.download_weights_if_necessary(
        file_name=WEIGHT_FILE, source_url=WEIGHTS_URL, compress_type=COMPRESS_TYPE
    )
    classifier.load_weights(path)
    logger.debug("DeepFace weights loaded from %s", path)
    return k.models.Model(inputs=inputs, outputs=f7)


#: The network on each engine: deepface's ``.h5``, ``.pth`` and ``.onnx`` files.
NETWORK = Network(
    name="DeepFace",
    files={TENSORFLOW: WEIGHT_FILE, PYTORCH: "VGGFace2_DeepFace_weights_val-0.9034.pth", ONNX: "VGGFace2_DeepFace_weights_val-0.9034.onnx"},
    keras=build_model,
    torch="deepface.models.torch_nets.fbdeepface:deepface",
    openvino_faster=(ONNX,),  # its converted Keras graph runs slower than TensorFlow (docs/benchmarks-runtimes.md)
)


class DeepFaceClient(NetworkRecognition):
    """Facebook's DeepFace: 152x152 BGR faces in, 4096-d ReLU embeddings out, unnormalised."""

    model_name = "DeepFace"
    input_shape = (INPUT_SIZE, INPUT_SIZE)
    output_shape = EMBEDDING

    def __init__(self, device: Optional[str] = None, precision: Optional[str] = None) -> None:
        super().__init__(NETWORK, device, precision)
