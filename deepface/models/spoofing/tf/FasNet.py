"""deepface's ``spoofing.tf.FasNet``: the network described once in
``deepface.models.spoofing.FasNet``, pinned to TensorFlow."""

from deepface.commons.backend_utils import TENSORFLOW
from deepface.models.spoofing import FasNet as network


class Fasnet(network.Fasnet):
    """FasNet on TensorFlow."""

    engine = TENSORFLOW
