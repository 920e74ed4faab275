"""deepface's ``facial_recognition.tf.OpenFace``: the network described once in
``deepface.models.facial_recognition.OpenFace``, pinned to TensorFlow."""

from deepface.commons.backend_utils import TENSORFLOW
from deepface.models.facial_recognition import OpenFace as network


class OpenFaceClient(network.OpenFaceClient):
    """OpenFace on TensorFlow."""

    engine = TENSORFLOW
