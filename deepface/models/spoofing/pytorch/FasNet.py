"""deepface's ``spoofing.pytorch.FasNet``: the network described once in
``deepface.models.spoofing.FasNet``, pinned to PyTorch."""

from deepface.commons.backend_utils import PYTORCH
from deepface.models.spoofing import FasNet as network


class Fasnet(network.Fasnet):
    """FasNet on PyTorch."""

    engine = PYTORCH
