"""deepface's ``facial_recognition.tf.DeepID``: the network described once in
``deepface.models.facial_recognition.DeepID``, pinned to TensorFlow."""

from deepface.commons.backend_utils import TENSORFLOW
from deepface.models.facial_recognition import DeepID as network


class DeepIdClient(network.DeepIdClient):
    """DeepID on TensorFlow."""

    engine = TENSORFLOW
