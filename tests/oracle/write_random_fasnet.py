"""Write random-weight files of deepface 0.0.103's two anti-spoofing networks under the
file names its ``Fasnet`` loads, into ``$DEEPFACE_HOME/.deepface/weights``.

The oracle's own ``Fasnet()`` builds both networks; instead of loading weights, each
network gets random weights that make it answer decisively, and they are saved:

- PReLU slopes, batch-norm scales and shifts are drawn at random (fresh ones are 0, 1, 0);
- each batch norm's moving mean and variance are the statistics of its input over a
  calibration batch of synthetic images (plus a little noise), so activations keep a
  sane size through the network and the logits vary from image to image instead of
  saturating the softmax; the embedding's batch norm keeps a zero shift and exact
  statistics, so that on such images no class wins more often than another.

Run it with upstream deepface first on PYTHONPATH, from outside the checkout:

    PYTHONPATH=.oracle DEEPFACE_HOME=DIR python tests/oracle/write_random_fasnet.py
"""

import os
from contextlib import contextmanager
from typing import Iterator

os.environ["TF_USE_LEGACY_KERAS"] = "1"
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: F401,E402  (torch and torchvision before TensorFlow, or the process crashes)
import torchvision  # noqa: F401,E402
import tensorflow as tf  # noqa: E402
from deepface.commons import folder_utils, weight_utils  # noqa: E402

FILE_NAMES = ("2.7_80x80_MiniFASNetV2.h5", "4_0_0_80x80_MiniFASNetV1SE.h5")
CALIBRATION_IMAGES = 48


def calibration_batch(rng: np.random.Generator) -> np.ndarray:
    """80x80 BGR images in [0, 255]: smooth random fields (upsampled coarse noise, with
    their own level and contrast) and some pixel noise, as float32."""
    images = []
    for k in range(CALIBRATION_IMAGES):
        coarse = rng.uniform(0, 255, (int(rng.integers(2, 12)),) * 2 + (3,)).astype(np.float32)
        field = cv2.resize(coarse, (80, 80), interpolation=cv2.INTER_LINEAR)
        if k % 3 == 0:
            field = field + rng.normal(0, 30, field.shape)
        images.append(np.clip(field, 0, 255))
    return np.stack(images).astype(np.float32)


def randomize(model, rng: np.random.Generator) -> None:
    """Random PReLU slopes and batch-norm scales and shifts; moving statistics from one
    training-mode pass over the calibration batch (momentum 0: each batch norm keeps the
    statistics of its own input, every earlier one already normalizing), then jittered."""
    layers = tf.keras.layers
    norms = [layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)]
    embedding = norms[-1]  # the 128-d embedding's: left centred, so that no class is favoured
    for layer in model.layers:
        if isinstance(layer, layers.PReLU):
            (alpha,) = layer.get_weights()
            layer.set_weights([rng.uniform(0.05, 0.35, alpha.shape).astype(np.float32)])
    for layer in norms:
        gamma, beta, mean, var = layer.get_weights()
        gamma = rng.uniform(0.6, 1.4, gamma.shape)
        beta = rng.normal(0, 0.3, beta.shape) if layer is not embedding else beta
        layer.set_weights([w.astype(np.float32) for w in (gamma, beta, mean, var)])
        layer.momentum = 0.0
    model(calibration_batch(rng), training=True)
    for layer in norms[:-1]:
        gamma, beta, mean, var = layer.get_weights()
        mean = mean + rng.normal(0, 0.05, mean.shape) * np.sqrt(var)
        var = var * rng.uniform(0.8, 1.25, var.shape) + 1e-3
        layer.set_weights([w.astype(np.float32) for w in (gamma, beta, mean, var)])


@contextmanager
def saving_instead_of_loading(weights: str, seed: int) -> Iterator[None]:
    """While inside, deepface's weight loading randomizes the model and saves it instead."""
    rng = np.random.default_rng(seed)
    download, load = weight_utils.download_weights_if_necessary, weight_utils.load_model_weights

    def cached_path(file_name, source_url, compress_type=None):
        return os.path.join(weights, file_name)

    def save_instead_of_load(model, weight_file):
        randomize(model, rng)
        model.save_weights(weight_file)
        return model

    weight_utils.download_weights_if_necessary = cached_path
    weight_utils.load_model_weights = save_instead_of_load
    try:
        yield
    finally:
        weight_utils.download_weights_if_necessary = download
        weight_utils.load_model_weights = load


def write_weights(seed: int = 0) -> str:
    """Write both files (unless present) with the oracle's ``Fasnet``; return the folder."""
    from deepface.models.spoofing.tf.FasNet import Fasnet

    weights = os.path.join(folder_utils.get_deepface_home(), ".deepface", "weights")
    os.makedirs(weights, exist_ok=True)
    if all(os.path.isfile(os.path.join(weights, name)) for name in FILE_NAMES):
        return weights
    tf.keras.utils.set_random_seed(seed)
    with saving_instead_of_loading(weights, seed):
        Fasnet()
    print("wrote Fasnet", flush=True)
    return weights


if __name__ == "__main__":
    write_weights(int(os.environ.get("RANDOM_WEIGHTS_SEED", "0")))
