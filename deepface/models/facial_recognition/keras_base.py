"""What the Keras recognition models share: TensorFlow imported safely, deepface's weight
file fetched and loaded, batched inference."""

from typing import Any, Callable, Sequence, Union

import numpy as np
from numpy.typing import NDArray

from deepface.commons import weight_utils
from deepface.commons.engines import import_tensorflow_safely


def keras() -> Any:
    """The Keras that deepface's weight files were written with (tf-keras where installed)."""
    import_tensorflow_safely()
    import tensorflow as tf

    return tf.keras


def load_keras_weights(model: Any, file_name: str, urls: Union[str, Sequence[str]]) -> Any:
    """Fetch ``file_name`` (deepface's name, from deepface's URLs) and load it into ``model``.

    HDF5 weights are matched layer by layer in order, so the architecture must list its
    layers as deepface's does.
    """
    path = weight_utils.download_weights_if_necessary(file_name=file_name, source_url=urls)
    return weight_utils.load_model_weights(model, path)


def compiled_inference(model: Any) -> Callable[[NDArray[np.float32]], Any]:
    """``model`` in inference mode as one TensorFlow graph that takes any batch size.

    Traced once, on first use (about 1.5 s for Facenet here), instead of once per batch
    size as Keras' ``predict_on_batch`` does. In one ad-hoc timing (Facenet, this
    project's CPU) it was 3.5x faster than an eager call on 9 faces and 10x on one face
    at a time. The same layers' arithmetic, summed in another float32 order: Facenet's
    embeddings agree with eager calls within 1e-7, ArcFace's within 1e-5 of their scale.
    """
    import tensorflow as tf

    spec = tf.TensorSpec([None, *model.inputs[0].shape[1:]], tf.float32)
    return tf.function(lambda batch: model(batch, training=False), input_signature=[spec])

