"""deepface's ``facial_recognition.onnx.ArcFace``: the network described once in
``deepface.models.facial_recognition.ArcFace``, pinned to ONNX Runtime."""

from deepface.commons.backend_utils import ONNX
from deepface.models.facial_recognition import ArcFace as network


class ArcFaceClient(network.ArcFaceClient):
    """ArcFace on ONNX Runtime."""

    engine = ONNX
