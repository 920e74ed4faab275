"""Facial attribute models behind ``analyze``: apparent age, gender, race and emotion, each
loading deepface's own weight file and running a batch of faces as one forward pass."""
