"""SFace (OpenCV zoo's ``face_recognition_sface_2021dec.onnx``) on onnxruntime, in batches.

The numbers are those of OpenCV's ``FaceRecognizerSF.feature``: it feeds the net
``blobFromImage(face, 1.0, (112, 112), mean 0, swapRB=True)``, i.e. the uint8 face as
float RGB in [0, 255], channels first. deepface turns its [0, 1] faces into that uint8
face by ``(face * 255).astype(uint8)``. Without onnxruntime, ``FaceRecognizerSF`` itself
runs, one face at a time.
"""

import threading
from typing import Any, Optional

import numpy as np
from numpy.typing import NDArray

from deepface.commons import weight_utils
from deepface.commons.exceptions import MissingDependencyError
from deepface.commons.logger import get_logger
from deepface.models.FacialRecognition import FacialRecognition
from deepface.models.facial_recognition.onnx_base import OnnxNet, check_faces

logger = get_logger(__name__)

WEIGHTS_FILE = "face_recognition_sface_2021dec.onnx"
WEIGHTS_URL = (
    "https://github.com/opencv/opencv_zoo/raw/main/models/face_recognition_sface/"
    "face_recognition_sface_2021dec.onnx"
)
SIZE = 112


# ---------------------------------------------------------------- SFace


def to_uint8_faces(faces: NDArray[Any]) -> NDArray[np.uint8]:
    """deepface's [0, 1] BGR faces as the uint8 BGR faces ``FaceRecognizerSF`` reads."""
    return (faces * 255).astype(np.uint8)


def sface_blob(faces_uint8: NDArray[np.uint8]) -> NDArray[np.float32]:
    """``FaceRecognizerSF.feature``'s blob for 112x112 uint8 BGR faces: RGB, NCHW, float32,
    no scaling, no mean."""
    return np.ascontiguousarray(faces_uint8[..., ::-1].transpose(0, 3, 1, 2), dtype=np.float32)


class SFaceClient(FacialRecognition):
    """SFace: 112x112 faces, 128-d embeddings.

    Args:
        device: ``None`` (CUDA when onnxruntime-gpu offers it, else CPU), ``"cpu"``,
            ``"cuda"`` or ``"cuda:N"``.
    """

    model_name = "SFace"
    input_shape = (SIZE, SIZE)
    output_shape = 128

    def __init__(self, device: Optional[str] = None) -> None:
        self.weights_path = weight_utils.download_weights_if_necessary(WEIGHTS_FILE, WEIGHTS_URL)
        try:
            self.net: Optional[OnnxNet] = OnnxNet.load(self.weights_path, device)
            self.model = self.net.session
        except MissingDependencyError:
            logger.info("onnxruntime is not installed: SFace runs on OpenCV, one face at a time")
            self.net = None
            self.model = load_opencv_recognizer(self.weights_path)
        self._lock = threading.Lock()  # OpenCV's net is not safe to share between threads

    def embed_batch(self, faces: NDArray[np.float32]) -> NDArray[np.float32]:
        check_faces(faces, self.model_name, SIZE)
        if len(faces) == 0:
            return np.zeros((0, self.output_shape), dtype=np.float32)
        faces_uint8 = to_uint8_faces(faces)
        if self.net is not None:
            return self.net.run(sface_blob(faces_uint8))
        with self._lock:
            rows = [self.model.feature(face) for face in faces_uint8]
        return np.asarray(rows, dtype=np.float32).reshape(len(faces), -1)


def load_opencv_recognizer(path: str) -> Any:
    """OpenCV's ``FaceRecognizerSF`` on ``path`` (the fallback engine)."""
    import cv2

    if not hasattr(cv2, "FaceRecognizerSF"):
        raise MissingDependencyError(
            "SFace needs onnxruntime or an OpenCV with FaceRecognizerSF: pip install onnxruntime"
        )
    return cv2.FaceRecognizerSF.create(path, "")
