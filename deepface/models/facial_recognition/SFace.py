"""SFace (OpenCV zoo's ``face_recognition_sface_2021dec.onnx``) on onnxruntime, in batches.

The numbers are those of OpenCV's ``FaceRecognizerSF.feature``: it feeds the net
``blobFromImage(face, 1.0, (112, 112), mean 0, swapRB=True)``, i.e. the uint8 face as
float RGB in [0, 255], channels first. deepface turns its [0, 1] faces into that uint8
face by ``(face * 255).astype(uint8)``. Without onnxruntime, ``FaceRecognizerSF`` itself
runs, one face at a time.

This module also holds the small onnxruntime helpers that Buffalo_L shares.
"""

import threading
from dataclasses import dataclass
from typing import Any, List, Optional, Union

import numpy as np
from numpy.typing import NDArray

from deepface.commons import weight_utils
from deepface.commons.exceptions import InvalidEmbeddingsShapeError, MissingDependencyError
from deepface.commons.logger import get_logger
from deepface.models.FacialRecognition import FacialRecognition

logger = get_logger(__name__)

WEIGHTS_FILE = "face_recognition_sface_2021dec.onnx"
WEIGHTS_URL = (
    "https://github.com/opencv/opencv_zoo/raw/main/models/face_recognition_sface/"
    "face_recognition_sface_2021dec.onnx"
)
SIZE = 112


# ---------------------------------------------------------------- onnxruntime helpers


def onnx_providers(available: List[str], device: Optional[str]) -> List[Any]:
    """onnxruntime providers for ``device``.

    ``None``: CUDA when the installed onnxruntime offers it, else the CPU (deepface's
    default order); ``"cpu"``; ``"cuda"`` or ``"cuda:N"``. The CPU always comes last, for
    the operators another provider lacks.
    """
    cuda = "CUDAExecutionProvider"
    wants_cuda = device is None or str(device).startswith("cuda")
    providers: List[Any] = []
    if wants_cuda and cuda in available:
        index = str(device).split(":", 1)[1] if device and ":" in str(device) else "0"
        providers.append((cuda, {"device_id": int(index)}))
    elif device is not None and str(device).startswith("cuda"):
        logger.warning("device %r asked for, but onnxruntime offers only %s: running on the CPU",
                       device, available)
    providers.append("CPUExecutionProvider")
    return providers


@dataclass
class OnnxNet:
    """An onnxruntime session with one image input, run in batches its input allows.

    Attributes:
        session: the ``onnxruntime.InferenceSession``.
        input_name: the graph's (first) input.
        fixed_batch: the input's batch size when the file fixes it (SFace's file fixes 1),
            ``None`` when it is dynamic.
    """

    session: Any
    input_name: str
    fixed_batch: Optional[int]

    @classmethod
    def load(cls, path: str, device: Optional[str] = None) -> "OnnxNet":
        """Open ``path``; raises ``MissingDependencyError`` without onnxruntime."""
        ort = import_onnxruntime()
        options = ort.SessionOptions()
        options.log_severity_level = 3  # some graphs (SFace) warn harmlessly while optimised
        session = ort.InferenceSession(
            path, sess_options=options, providers=onnx_providers(ort.get_available_providers(), device)
        )
        first = session.get_inputs()[0]
        batch = first.shape[0] if first.shape else None
        fixed = batch if isinstance(batch, int) and batch > 0 else None
        logger.debug("%s: input %s %s (%s batch)", path, first.name, first.shape, fixed or "dynamic")
        return cls(session=session, input_name=first.name, fixed_batch=fixed)

    @property
    def input_shape(self) -> List[Union[int, str, None]]:
        """The declared input shape, e.g. ``[1, 3, 112, 112]`` or ``['None', 3, 112, 112]``."""
        return list(self.session.get_inputs()[0].shape)

    def run(self, blob: NDArray[np.float32]) -> NDArray[np.float32]:
        """The first output for ``blob`` (N, ...), in one call, or in chunks of the fixed
        batch size (the last chunk padded with zeros, whose rows are dropped)."""
        blob = np.ascontiguousarray(blob, dtype=np.float32)
        if self.fixed_batch is None:
            return self._run(blob)
        step = self.fixed_batch
        outputs = []
        for start in range(0, len(blob), step):
            chunk = blob[start:start + step]
            count = len(chunk)
            if count < step:
                padding = np.zeros((step - count,) + chunk.shape[1:], dtype=np.float32)
                chunk = np.concatenate([chunk, padding])
            outputs.append(self._run(chunk)[:count])
        return np.concatenate(outputs)

    def _run(self, blob: NDArray[np.float32]) -> NDArray[np.float32]:
        output = self.session.run(None, {self.input_name: blob})[0]
        return np.asarray(output, dtype=np.float32).reshape(len(blob), -1)


def import_onnxruntime() -> Any:
    """onnxruntime, or ``MissingDependencyError`` naming the pip command."""
    try:
        import onnxruntime
    except ImportError as err:
        raise MissingDependencyError(
            "this model runs on onnxruntime: pip install onnxruntime (onnxruntime-gpu for CUDA)"
        ) from err
    return onnxruntime


def check_faces(faces: NDArray[Any], model_name: str, size: int) -> None:
    """Raise unless ``faces`` is (N, size, size, 3)."""
    if faces.ndim != 4 or faces.shape[1:] != (size, size, 3):
        raise InvalidEmbeddingsShapeError(
            f"{model_name} takes faces shaped (N, {size}, {size}, 3), not {faces.shape}"
        )


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
