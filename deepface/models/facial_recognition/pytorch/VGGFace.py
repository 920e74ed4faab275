"""deepface's ``facial_recognition.pytorch.VGGFace``: the network described once in
``deepface.models.facial_recognition.VGGFace``, pinned to PyTorch."""

from deepface.commons.backend_utils import PYTORCH
from deepface.models.facial_recognition import VGGFace as network


class VggFaceClient(network.VggFaceClient):
    """VGGFace on PyTorch."""

    engine = PYTORCH
