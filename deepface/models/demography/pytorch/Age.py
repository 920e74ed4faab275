"""deepface's ``demography.pytorch.Age``: the network described once in
``deepface.models.demography.Age``, pinned to PyTorch."""

from deepface.commons.backend_utils import PYTORCH
from deepface.models.demography import Age as network


class ApparentAgeClient(network.ApparentAgeClient):
    """Age on PyTorch."""

    engine = PYTORCH
