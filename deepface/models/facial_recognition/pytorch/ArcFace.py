"""deepface's ``facial_recognition.pytorch.ArcFace``: the network described once in
``deepface.models.facial_recognition.ArcFace``, pinned to PyTorch."""

from deepface.commons.backend_utils import PYTORCH
from deepface.models.facial_recognition import ArcFace as network


class ArcFaceClient(network.ArcFaceClient):
    """ArcFace on PyTorch."""

    engine = PYTORCH
