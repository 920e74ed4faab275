"""deepface's ``spoofing.onnx.FasNet``: the network described once in
``deepface.models.spoofing.FasNet``, pinned to ONNX Runtime."""

from deepface.commons.backend_utils import ONNX
from deepface.models.spoofing import FasNet as network


class Fasnet(network.Fasnet):
    """FasNet on ONNX Runtime."""

    engine = ONNX
