"""Random-weight Keras files made to answer decisively: freshly initialised networks give
almost uniform softmax outputs, which make equality tests and benchmarks meaningless."""

from pathlib import Path
from typing import Union

import numpy as np


def rescale_random_weights(path: Union[str, Path], seed: int = 0) -> None:
    """Turn a fresh Glorot-initialised ``.h5`` file into one whose network answers decisively.

    Each kernel is scaled to He's variance (so activations keep their size through the
    ReLU layers instead of fading towards a uniform softmax), and each bias gets a little
    noise (fresh biases are all zero, so a swap of two would go unseen).
    """
    import h5py  # installed with TensorFlow

    rng = np.random.default_rng(seed)

    def rescale(name: str, item: object) -> None:
        if not isinstance(item, h5py.Dataset):
            return
        leaf = name.rsplit("/", 1)[-1]
        if leaf.startswith("kernel"):
            receptive = int(np.prod(item.shape[:-2]))
            fan_in, fan_out = receptive * item.shape[-2], receptive * item.shape[-1]
            item[...] = item[...] * np.float32(np.sqrt((fan_in + fan_out) / fan_in))
        elif leaf.startswith("bias"):
            item[...] = item[...] + rng.normal(0.0, 0.05, item.shape).astype(item.dtype)

    with h5py.File(path, "r+") as weights:
        weights.visititems(rescale)
