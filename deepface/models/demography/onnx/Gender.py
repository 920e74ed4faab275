"""deepface's ``demography.onnx.Gender``: the network described once in
``deepface.models.demography.Gender``, pinned to ONNX Runtime."""

from deepface.commons.backend_utils import ONNX
from deepface.models.demography import Gender as network


class GenderClient(network.GenderClient):
    """Gender on ONNX Runtime."""

    engine = ONNX
