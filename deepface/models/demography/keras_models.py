"""What the attribute models share: a network run by any engine over a batch of faces,
and the Keras VGG-Face trunk with a class head (the age, gender and race networks)."""

from typing import Any, ClassVar, Optional, Sequence, Tuple, Union

import numpy as np
from numpy.typing import NDArray

from deepface.commons.exceptions import InvalidEmbeddingsShapeError
from deepface.commons.logger import get_logger
from deepface.commons.backend_utils import ONNX, PYTORCH, TENSORFLOW
from deepface.models.Demography import Demography, Faces
from deepface.models.demography.DemographyUtils import FACE_SIZE, face_batch
from deepface.models.facial_recognition import VGGFace
from deepface.models.facial_recognition.VGGFace import _conv_stages
from deepface.models.engines import Network, Runner, load_runner
from deepface.models.facial_recognition.keras_base import keras, load_keras_weights

logger = get_logger(__name__)


def build_vgg_classifier(classes: int, weight_file: str, urls: Union[str, Sequence[str]]) -> Any:
    """VGG-Face up to ``fc7`` (and its dropout), then a 1x1 convolution to ``classes``
    scores, flattened and softmaxed; ``weight_file`` (deepface's) loaded into it.

    This is how deepface derives its age, gender and race models from VGG-Face: the
    identity classifier ``fc8`` is replaced by a head named ``predictions``.
    """
    k = keras()
    layers = k.layers
    inputs = layers.Input(shape=(VGGFace.INPUT_SIZE, VGGFace.INPUT_SIZE, 3))
    x = _conv_stages(inputs)
    x = layers.Conv2D(VGGFace.FC_UNITS, (7, 7), activation="relu")(x)  # fc6
    x = layers.Dropout(VGGFace.DROPOUT)(x)
    x = layers.Conv2D(VGGFace.FC_UNITS, (1, 1), activation="relu")(x)  # fc7
    x = layers.Dropout(VGGFace.DROPOUT)(x)
    x = layers.Conv2D(classes, (1, 1), name="predictions")(x)
    outputs = layers.Activation("softmax")(layers.Flatten()(x))
    model = k.models.Model(inputs=inputs, outputs=outputs)
    load_keras_weights(model, weight_file, urls)
    logger.debug("VGG-Face classifier with %d classes loaded from %s", classes, weight_file)
    return model


def attribute_network(
    name: str, stem: str, h5_file: str, keras_build: Any, torch: str, vgg_trunk: bool = True
) -> Network:
    """deepface's attribute network ``name`` on each engine: ``h5_file`` and ``stem``.pth/.onnx.
    ``vgg_trunk``: a VGG-Face classifier, whose Keras model ``analyze`` may share with its
    siblings' (``demography.shared_trunk``); else the small emotion network."""
    return Network(
        name=name,
        files={TENSORFLOW: h5_file, PYTORCH: f"{stem}.pth", ONNX: f"{stem}.onnx"},
        keras=keras_build,
        torch=f"deepface.models.torch_nets.{torch}",
        keras_shared_trunk=vgg_trunk,
    )


class NetworkDemography(Demography):
    """An attribute model whose network (a softmax classifier) runs on an engine, as one
    forward pass for any batch size.

    ``engine`` is ``None`` for the process's engine; the classes at deepface's module
    paths (``demography.tf.Age`` ...) pin it.
    """

    #: The faces it takes, ``(height, width, channels)``; ``None`` for any size.
    face_shape: Tuple[Optional[int], ...] = (FACE_SIZE, FACE_SIZE, 3)
    engine: ClassVar[Optional[str]] = None

    def __init__(
        self, network: Network, classes: int, device: Optional[str] = None, precision: Optional[str] = None
    ) -> None:
        self.runner: Runner = load_runner(network, self.engine, device, precision)
        self.model = self.runner.model
        self._classes = classes

    def network_input(self, faces: NDArray[np.float32]) -> NDArray[np.float32]:
        """The network's input for prepared faces ``(N, 224, 224, 3)``; as they are here
        (the emotion model converts them)."""
        return faces

    def class_probabilities(self, faces: Faces) -> NDArray[np.float32]:
        batch = face_batch(faces)
        if len(batch) == 0:
            return np.zeros((0, self._classes), dtype=np.float32)
        self._check_faces(batch)
        inputs = self.network_input(batch)
        return self.runner(inputs).reshape(len(batch), self._classes)

    def _check_faces(self, batch: NDArray[np.float32]) -> None:
        """Raise a clear error for faces of a shape the model does not take."""
        fits = all(want is None or want == got for want, got in zip(self.face_shape, batch.shape[1:]))
        if not fits:
            wanted = ", ".join("any" if size is None else str(size) for size in self.face_shape)
            raise InvalidEmbeddingsShapeError(
                f"{self.model_name} takes faces shaped (N, {wanted}), not {batch.shape}"
            )
