"""deepface's ``facial_recognition.onnx.FbDeepFace``: the network described once in
``deepface.models.facial_recognition.FbDeepFace``, pinned to ONNX Runtime."""

from deepface.commons.backend_utils import ONNX
from deepface.models.facial_recognition import FbDeepFace as network


class DeepFaceClient(network.DeepFaceClient):
    """FbDeepFace on ONNX Runtime."""

    engine = ONNX
