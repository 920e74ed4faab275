"""deepface's ``demography.tf.Age``: the network described once in
``deepface.models.demography.Age``, pinned to TensorFlow."""

from deepface.commons.backend_utils import TENSORFLOW
from deepface.models.demography import Age as network


class ApparentAgeClient(network.ApparentAgeClient):
    """Age on TensorFlow."""

    engine = TENSORFLOW
