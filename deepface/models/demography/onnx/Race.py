"""deepface's ``demography.onnx.Race``: the network described once in
``deepface.models.demography.Race``, pinned to ONNX Runtime."""

from deepface.commons.backend_utils import ONNX
from deepface.models.demography import Race as network


class RaceClient(network.RaceClient):
    """Race on ONNX Runtime."""

    engine = ONNX
