"""Random-weight files for the four attribute models, written by deepface's own code and
rescaled so that the random networks answer decisively (fresh ones answer uniformly)."""

import shutil
from pathlib import Path

import h5py
import numpy as np

from tests.helpers.oracle import write_random_weights

#: deepface's model name -> its weight file
WEIGHT_FILES = {
    "Age": "age_model_weights.h5",
    "Gender": "gender_model_weights.h5",
    "Race": "race_model_single_batch.h5",
    "Emotion": "facial_expression_model_weights.h5",
}


def rescale_random_weights(path: Path, seed: int = 0) -> None:
    """Turn a fresh Glorot-initialised file into one whose network answers decisively.

    Each kernel is scaled to He's variance (so activations keep their size through the
    ReLU layers instead of fading towards a uniform softmax), and each bias gets a little
    noise (fresh biases are all zero, so a swap of two would go unseen).
    """
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
