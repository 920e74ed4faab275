"""deepface's ``facial_recognition.onnx.OpenFace``: the network described once in
``deepface.models.facial_recognition.OpenFace``, pinned to ONNX Runtime."""

from deepface.commons.backend_utils import ONNX
from deepface.models.facial_recognition import OpenFace as network


class OpenFaceClient(network.OpenFaceClient):
    """OpenFace on ONNX Runtime."""

    engine = ONNX
