"""Random-weight files for the four attribute models, written by deepface's own code and
rescaled so that the random networks answer decisively (fresh ones answer uniformly)."""

import shutil
from pathlib import Path
from typing import List, Tuple

import numpy as np

from deepface.testing.rescaled_weights import rescale_random_weights
from tests.helpers.oracle import write_random_weights

#: deepface's model name -> its weight file
WEIGHT_FILES = {
    "Age": "age_model_weights.h5",
    "Gender": "gender_model_weights.h5",
    "Race": "race_model_single_batch.h5",
    "Emotion": "facial_expression_model_weights.h5",
}


def write_demography_home(weights_home: Path, home: Path) -> Path:
    """Fill ``home``'s weights folder with the four models' rescaled random weights (the
    originals are written once into ``weights_home``, shared with other tests)."""
    write_random_weights(weights_home, list(WEIGHT_FILES))  # all at once: one oracle process
    folder = home / ".deepface" / "weights"
    folder.mkdir(parents=True, exist_ok=True)
    for file_name in WEIGHT_FILES.values():
        target = folder / file_name
        shutil.copyfile(weights_home / ".deepface" / "weights" / file_name, target)
        rescale_random_weights(target)
    return home


def weighted_layers(path: Path) -> List[Tuple[str, List[str]]]:
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


def copy_trunk(source: Path, target: Path) -> None:
    """Give ``target`` the weights of ``source``'s layers, all but the last (the head)."""
    import h5py

    pairs = list(zip(weighted_layers(source), weighted_layers(target)))[:-1]
    with h5py.File(source, "r") as read, h5py.File(target, "r+") as write:
        for (_, from_paths), (_, to_paths) in pairs:
            for from_path, to_path in zip(from_paths, to_paths):
                write[to_path][...] = read[from_path][...]


def nudge_layer(path: Path, ordinal: int) -> None:
    """Change the bias of the ``ordinal``-th weighted layer of ``path`` a little."""
    import h5py

    _, datasets = weighted_layers(path)[ordinal]
    with h5py.File(path, "r+") as weights:
        bias = [d for d in datasets if d.rsplit("/", 1)[-1].startswith("bias")][0]
        weights[bias][...] = weights[bias][...] + np.float32(1e-3)
