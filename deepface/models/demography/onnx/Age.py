"""deepface's ``demography.onnx.Age``: the network described once in
``deepface.models.demography.Age``, pinned to ONNX Runtime."""

from deepface.commons.backend_utils import ONNX
from deepface.models.demography import Age as network


class ApparentAgeClient(network.ApparentAgeClient):
    """Age on ONNX Runtime."""

    engine = ONNX
