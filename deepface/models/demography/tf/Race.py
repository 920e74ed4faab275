"""deepface's ``demography.tf.Race``: the network described once in
``deepface.models.demography.Race``, pinned to TensorFlow."""

from deepface.commons.backend_utils import TENSORFLOW
from deepface.models.demography import Race as network


class RaceClient(network.RaceClient):
    """Race on TensorFlow."""

    engine = TENSORFLOW
