"""deepface's ``facial_recognition.pytorch.OpenFace``: the network described once in
``deepface.models.facial_recognition.OpenFace``, pinned to PyTorch."""

from deepface.commons.backend_utils import PYTORCH
from deepface.models.facial_recognition import OpenFace as network


class OpenFaceClient(network.OpenFaceClient):
    """OpenFace on PyTorch."""

    engine = PYTORCH
