"""deepface's module paths for the demography networks on TensorFlow."""
