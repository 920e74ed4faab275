"""deepface's ``facial_recognition.onnx.VGGFace``: the network described once in
``deepface.models.facial_recognition.VGGFace``, pinned to ONNX Runtime."""

from deepface.commons.backend_utils import ONNX
from deepface.models.facial_recognition import VGGFace as network


class VggFaceClient(network.VggFaceClient):
    """VGGFace on ONNX Runtime."""

    engine = ONNX
