"""deepface's ``facial_recognition.tf.ArcFace``: the network described once in
``deepface.models.facial_recognition.ArcFace``, pinned to TensorFlow."""

from deepface.commons.backend_utils import TENSORFLOW
from deepface.models.facial_recognition import ArcFace as network


class ArcFaceClient(network.ArcFaceClient):
    """ArcFace on TensorFlow."""

    engine = TENSORFLOW
