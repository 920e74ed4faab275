"""deepface's ``facial_recognition.pytorch.FbDeepFace``: the network described once in
``deepface.models.facial_recognition.FbDeepFace``, pinned to PyTorch."""

from deepface.commons.backend_utils import PYTORCH
from deepface.models.facial_recognition import FbDeepFace as network


class DeepFaceClient(network.DeepFaceClient):
    """FbDeepFace on PyTorch."""

    engine = PYTORCH
