"""deepface's ``demography.pytorch.Race``: the network described once in
``deepface.models.demography.Race``, pinned to PyTorch."""

from deepface.commons.backend_utils import PYTORCH
from deepface.models.demography import Race as network


class RaceClient(network.RaceClient):
    """Race on PyTorch."""

    engine = PYTORCH
