"""deepface's ``facial_recognition.onnx.Facenet``: the network described once in
``deepface.models.facial_recognition.Facenet``, pinned to ONNX Runtime."""

from typing import Optional

from deepface.commons.backend_utils import ONNX
from deepface.models.facial_recognition import Facenet as network


class FaceNet128dClient(network.FaceNetClient):
    """FaceNetClient with 128-d embeddings on ONNX Runtime."""

    engine = ONNX

    def __init__(self, device: Optional[str] = None, precision: Optional[str] = None) -> None:
        super().__init__(dimension=128, device=device, precision=precision)


class FaceNet512dClient(network.FaceNetClient):
    """FaceNetClient with 512-d embeddings on ONNX Runtime."""

    engine = ONNX

    def __init__(self, device: Optional[str] = None, precision: Optional[str] = None) -> None:
        super().__init__(dimension=512, device=device, precision=precision)
