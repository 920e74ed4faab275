"""Importing deep-learning engines side by side without crashing."""

import importlib
import importlib.util
import sys

# Importing TensorFlow before torchvision crashes the process (inside triton) with the
# CUDA builds of torch; importing these first avoids it.
_IMPORT_BEFORE_TENSORFLOW = ("torch", "torchvision")


def import_tensorflow_safely() -> None:
    """Import torch and torchvision, where installed, before anything imports TensorFlow.

    A process that uses mtcnn (TensorFlow) and later YOLO (torchvision) needs this.
    """
    if "tensorflow" in sys.modules:
        return
    for name in _IMPORT_BEFORE_TENSORFLOW:
        if name not in sys.modules and importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
