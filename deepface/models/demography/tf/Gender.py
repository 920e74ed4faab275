"""deepface's ``demography.tf.Gender``: the network described once in
``deepface.models.demography.Gender``, pinned to TensorFlow."""

from deepface.commons.backend_utils import TENSORFLOW
from deepface.models.demography import Gender as network


class GenderClient(network.GenderClient):
    """Gender on TensorFlow."""

    engine = TENSORFLOW
