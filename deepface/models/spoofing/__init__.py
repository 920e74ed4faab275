"""Anti-spoofing: deepface's ``Fasnet``, two MiniFASNet classifiers (Silent-Face-Anti-Spoofing)
judging whether a face is real, run over a whole batch of faces in one pass per network."""
