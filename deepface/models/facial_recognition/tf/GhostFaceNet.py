"""deepface's ``facial_recognition.tf.GhostFaceNet``: the network described once in
``deepface.models.facial_recognition.GhostFaceNet``, pinned to TensorFlow."""

from deepface.commons.backend_utils import TENSORFLOW
from deepface.models.facial_recognition import GhostFaceNet as network


class GhostFaceNetClient(network.GhostFaceNetClient):
    """GhostFaceNet on TensorFlow."""

    engine = TENSORFLOW
