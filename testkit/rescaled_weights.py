"""Random-weight Keras files made to answer decisively (freshly initialised networks give
almost uniform softmax outputs, which make equality tests and benchmarks meaningless), and
edits of such files layer by layer (a trunk copied from one model into another)."""

from pathlib import Path
from typing import List, Tuple, Union

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


def weighted_layers(path: Union[str, Path]) -> List[Tuple[str, List[str]]]:
    """The layers of a Keras ``.h5`` weight file that hold weights, in file order, with
    their datasets' paths (the order in which Keras loads them into a network)."""
    import h5py  # installed with TensorFlow

    with h5py.File(path, "r") as weights:
        layers = []
        for name in weights.attrs["layer_names"]:
            name = name.decode() if isinstance(name, bytes) else name
            datasets = [w.decode() if isinstance(w, bytes) else w for w in weights[name].attrs["weight_names"]]
            if datasets:
                layers.append((name, [f"{name}/{dataset}" for dataset in datasets]))
        return layers


def copy_trunk(source: Union[str, Path], target: Union[str, Path]) -> None:
    """Give ``target`` the weights of ``source``'s layers, all but the last (the head)."""
    import h5py

    pairs = list(zip(weighted_layers(source), weighted_layers(target)))[:-1]
    with h5py.File(source, "r") as read, h5py.File(target, "r+") as write:
        for (_, from_paths), (_, to_paths) in pairs:
            for from_path, to_path in zip(from_paths, to_paths):
                write[to_path][...] = read[from_path][...]


def nudge_layer(path: Union[str, Path], ordinal: int) -> None:
    """Change the bias of the ``ordinal``-th weighted layer of ``path`` a little."""
    import h5py

    _, datasets = weighted_layers(path)[ordinal]
    with h5py.File(path, "r+") as weights:
        bias = [d for d in datasets if d.rsplit("/", 1)[-1].startswith("bias")][0]
        weights[bias][...] = weights[bias][...] + np.float32(1e-3)
