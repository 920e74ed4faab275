"""Buffalo_L: insightface's ResNet-50 recognition net (buffalo_l pack), on onnxruntime.

deepface runs it through insightface's ``ArcFaceONNX.get_feat``; this runs the same file
with the same input and no insightface: faces scaled by 255, then OpenCV's
``blobFromImages(faces, 1 / std, (W, H), (mean, mean, mean), swapRB=True)`` (RGB, NCHW).
``mean`` and ``std`` follow insightface's rule: 0 and 1 when the graph's first nodes
subtract and multiply themselves (mxnet exports), else 127.5 and 127.5 (the buffalo_l file).
"""

import os
from typing import Optional, Tuple

import numpy as np
from numpy.typing import NDArray

from deepface.commons import weight_utils
from deepface.commons.logger import get_logger
from deepface.models.FacialRecognition import FacialRecognition
from deepface.models.facial_recognition.onnx_base import OnnxNet, check_faces

logger = get_logger(__name__)

WEIGHTS_FILE = os.path.join("buffalo_l", "webface_r50.onnx")
WEIGHTS_URL = (
    "https://drive.google.com/uc?export=download&confirm=pbef&id=1N0GL-8ehw_bz2eZQWz2b0A5XBdXdxZhg"
)
SIZE = 112
FIRST_NODES = 8  # insightface looks at this many graph nodes for in-graph normalisation
PYTORCH_NORMALISATION = (127.5, 127.5)
MXNET_NORMALISATION = (0.0, 1.0)


def weights_file() -> str:
    """The cached ``buffalo_l/webface_r50.onnx``, downloaded from deepface's URL when missing."""
    os.makedirs(os.path.dirname(weight_utils.weight_path(WEIGHTS_FILE)), exist_ok=True)
    return weight_utils.download_weights_if_necessary(WEIGHTS_FILE, WEIGHTS_URL)


def input_normalisation(path: str) -> Tuple[float, float]:
    """``(mean, std)`` as insightface's ``ArcFaceONNX`` picks them for the file at ``path``.

    Needs the ``onnx`` package to read node names; without it, the buffalo_l file's values.
    """
    try:
        import onnx
    except ImportError:
        logger.debug("onnx is not installed: assuming %s's input is normalised outside the graph", path)
        return PYTORCH_NORMALISATION
    nodes = onnx.load(path, load_external_data=False).graph.node[:FIRST_NODES]
    names = [node.name for node in nodes]
    subtracts = any(name.startswith(("Sub", "_minus")) for name in names)
    multiplies = any(name.startswith(("Mul", "_mul")) for name in names)
    return MXNET_NORMALISATION if subtracts and multiplies else PYTORCH_NORMALISATION


def net_input_size(net: OnnxNet) -> Tuple[int, int]:
    """``(width, height)`` the graph declares (insightface resizes faces to it), else 112x112."""
    height, width = net.input_shape[2:4]
    if isinstance(height, int) and isinstance(width, int):
        return width, height
    return SIZE, SIZE


class Buffalo_L(FacialRecognition):  # pylint: disable=invalid-name  (deepface's name)
    """Buffalo_L: 112x112 faces, 512-d embeddings, batched where the graph allows.

    Args:
        device: ``None`` (CUDA when onnxruntime-gpu offers it, else CPU), ``"cpu"``,
            ``"cuda"`` or ``"cuda:N"``.
    """

    model_name = "Buffalo_L"
    input_shape = (SIZE, SIZE)
    output_shape = 512

    def __init__(self, device: Optional[str] = None) -> None:
        self.weights_path = weights_file()
        self.net = OnnxNet.load(self.weights_path, device)
        self.model = self.net.session
        self.mean, self.std = input_normalisation(self.weights_path)
        self.net_size = net_input_size(self.net)

    def embed_batch(self, faces: NDArray[np.float32]) -> NDArray[np.float32]:
        check_faces(faces, self.model_name, SIZE)
        if len(faces) == 0:
            return np.zeros((0, self.output_shape), dtype=np.float32)
        return self.net.run(self.blob(faces))

    def blob(self, faces: NDArray[np.float32]) -> NDArray[np.float32]:
        """The net's input for [0, 1] BGR faces, built as insightface builds it."""
        import cv2

        scaled = list(np.asarray(faces, dtype=np.float32) * np.float32(255))
        mean = (self.mean, self.mean, self.mean)
        return cv2.dnn.blobFromImages(scaled, 1.0 / self.std, self.net_size, mean, swapRB=True)
