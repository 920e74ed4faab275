"""deepface's ``facial_recognition.pytorch.GhostFaceNet``: the network described once in
``deepface.models.facial_recognition.GhostFaceNet``, pinned to PyTorch."""

from deepface.commons.backend_utils import PYTORCH
from deepface.models.facial_recognition import GhostFaceNet as network


class GhostFaceNetClient(network.GhostFaceNetClient):
    """GhostFaceNet on PyTorch."""

    engine = PYTORCH
