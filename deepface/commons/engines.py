"""Importing deep-learning engines side by side without crashing."""

import importlib
import importlib.util
import os
import sys

# Importing TensorFlow before torchvision crashes the process (inside triton) with the
# CUDA builds of torch; importing these first avoids it.
_IMPORT_BEFORE_TENSORFLOW = ("torch", "torchvision")


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def import_tensorflow_safely() -> None:
    """Prepare the process for TensorFlow; call it before anything imports TensorFlow.

    - torch and torchvision, where installed, are imported first: a process that uses
      mtcnn (TensorFlow) and later YOLO (torchvision) would crash otherwise.
    - With tf-keras installed, TensorFlow is told to use it (``TF_USE_LEGACY_KERAS=1``),
      as retina-face requires; it must be decided before TensorFlow's first import, so
      every TensorFlow detector agrees on it.
    """
    if "tensorflow" in sys.modules:
        return
    if _installed("tf_keras"):
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    for name in _IMPORT_BEFORE_TENSORFLOW:
        if name not in sys.modules and _installed(name):
            importlib.import_module(name)


def patch_protobuf_for_mediapipe() -> None:
    """Let mediapipe 0.10.14 run beside the protobuf that TensorFlow needs.

    mediapipe 0.10.14 (the last release that ships its face model and accepts numpy 2)
    calls ``SymbolDatabase.GetPrototype``, which protobuf 5 removed; the same class comes
    from ``message_factory.GetMessageClass``.
    """
    from google.protobuf import message_factory, symbol_database

    if not hasattr(symbol_database.SymbolDatabase, "GetPrototype"):
        def get_prototype(_database: object, descriptor: object) -> type:
            return message_factory.GetMessageClass(descriptor)

        symbol_database.SymbolDatabase.GetPrototype = get_prototype
