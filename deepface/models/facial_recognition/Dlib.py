"""dlib's ResNet face recognition model (deepface's "Dlib"), run on whole batches."""

import os
import threading
from typing import Any, List

import numpy as np
from numpy.typing import NDArray

from deepface.commons import weight_utils
from deepface.commons.exceptions import InvalidEmbeddingsShapeError, MissingDependencyError
from deepface.commons.logger import get_logger
from deepface.models.FacialRecognition import FacialRecognition

logger = get_logger(__name__)

WEIGHTS_FILE = "dlib_face_recognition_resnet_model_v1.dat"
WEIGHTS_URL = "https://dlib.net/files/dlib_face_recognition_resnet_model_v1.dat.bz2"


def find_weights() -> str:
    """The recognition weights: the cache folder's copy, else the one ``face_recognition_models``
    ships, else deepface's download (bz2) into the cache folder."""
    cached = weight_utils.weight_path(WEIGHTS_FILE)
    if os.path.isfile(cached):
        return cached
    shipped = weight_utils.shipped_model_file(WEIGHTS_FILE)
    if shipped is not None:
        logger.debug("using the %s shipped by %s: %s", WEIGHTS_FILE, weight_utils.SHIPPING_PACKAGE, shipped)
        return shipped
    return weight_utils.download_weights_if_necessary(WEIGHTS_FILE, WEIGHTS_URL, compress_type="bz2")


def to_dlib_chip(face: NDArray[Any]) -> NDArray[np.uint8]:
    """One face as deepface's Dlib feeds it to dlib: RGB, scaled by 255 when its maximum is at
    most 1, cast to uint8 (truncating).

    The scale rule is decided for this face alone; deepface decides it once for the whole
    array it is given, so there a batch mixing [0, 1] and [0, 255] faces differs.
    """
    rgb = face[..., ::-1]
    if rgb.max() <= 1:
        rgb = rgb * 255
    return np.ascontiguousarray(rgb.astype(np.uint8))


class DlibClient(FacialRecognition):
    """dlib's ``face_recognition_model_v1`` (ResNet, 150x150 chips, 128-d descriptors).

    ``embed_batch`` gives dlib the whole batch in one ``compute_face_descriptor`` call. The
    dlib net keeps per-call buffers, so calls are serialised with a lock.
    """

    model_name = "Dlib"
    input_shape = (150, 150)
    output_shape = 128

    def __init__(self) -> None:
        try:
            import dlib
        except ImportError as err:
            raise MissingDependencyError(
                "the Dlib recognition model needs dlib: pip install 'deepface[dlib]' "
                "(or pip install dlib-bin face_recognition_models)"
            ) from err
        self.weights_path = find_weights()
        self.model = dlib.face_recognition_model_v1(self.weights_path)
        self._lock = threading.Lock()

    def embed_batch(self, faces: NDArray[np.float32]) -> NDArray[np.float32]:
        if faces.ndim != 4 or faces.shape[-1] != 3:
            raise InvalidEmbeddingsShapeError(f"Dlib takes faces shaped (N, H, W, 3), not {faces.shape}")
        if len(faces) == 0:
            return np.zeros((0, self.output_shape), dtype=np.float32)
        chips: List[NDArray[np.uint8]] = [to_dlib_chip(face) for face in faces]
        with self._lock:
            descriptors = self.model.compute_face_descriptor(chips)
        return np.asarray([np.asarray(d) for d in descriptors], dtype=np.float32)
