"""deepface's ``facial_recognition.pytorch.DeepID``: the network described once in
``deepface.models.facial_recognition.DeepID``, pinned to PyTorch."""

from deepface.commons.backend_utils import PYTORCH
from deepface.models.facial_recognition import DeepID as network


class DeepIdClient(network.DeepIdClient):
    """DeepID on PyTorch."""

    engine = PYTORCH
