"""deepface's ``demography.pytorch.Gender``: the network described once in
``deepface.models.demography.Gender``, pinned to PyTorch."""

from deepface.commons.backend_utils import PYTORCH
from deepface.models.demography import Gender as network


class GenderClient(network.GenderClient):
    """Gender on PyTorch."""

    engine = PYTORCH
