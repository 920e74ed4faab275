"""deepface's ``facial_recognition.onnx.DeepID``: the network described once in
``deepface.models.facial_recognition.DeepID``, pinned to ONNX Runtime."""

from deepface.commons.backend_utils import ONNX
from deepface.models.facial_recognition import DeepID as network


class DeepIdClient(network.DeepIdClient):
    """DeepID on ONNX Runtime."""

    engine = ONNX
