"""PyTorch modules of deepface's trained networks, one file a family.

Each module holds exactly the state dict of deepface 0.0.103's ``.pth`` file for its
network and returns the network's raw output (what the model families post-process),
from an NCHW float32 batch. They are inference modules: dropout is left out (it is the
identity in evaluation), and every face's output does not depend on the rest of its batch.
Imported only when the PyTorch engine runs (see :mod:`deepface.models.engines`).
"""
