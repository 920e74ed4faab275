"""deepface's ``facial_recognition.dlib.Dlib``: dlib's ResNet, whichever engine runs the rest."""

from deepface.models.facial_recognition.Dlib import DlibClient

__all__ = ["DlibClient"]
