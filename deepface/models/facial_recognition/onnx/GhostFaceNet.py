"""deepface's ``facial_recognition.onnx.GhostFaceNet``: the network described once in
``deepface.models.facial_recognition.GhostFaceNet``, pinned to ONNX Runtime."""

from deepface.commons.backend_utils import ONNX
from deepface.models.facial_recognition import GhostFaceNet as network


class GhostFaceNetClient(network.GhostFaceNetClient):
    """GhostFaceNet on ONNX Runtime."""

    engine = ONNX
