"""MTCNN's three networks run layer by layer, without Keras's per-call bookkeeping.

P-Net, R-Net and O-Net (mtcnn 1.0, tf-keras models) are each a chain of layers followed by
parallel output heads. Calling a Keras model runs input-spec checks, name scopes and
call-context tracking around every layer; on the small tensors MTCNN works with that
costs about as much as the arithmetic (P-Net on an 80x60 level: 2.8 ms through Keras,
1.4 ms layer by layer). :class:`LayerChain` calls each layer's own ``call`` in the model's
order, so the same TensorFlow operations run on the same inputs: the outputs are equal
bit for bit. That is checked on a probe input when the chain is built; a model whose
layout does not fit (or whose outputs differ) is called through Keras as before.
"""

import copy
import logging
from typing import Any, List, Sequence, Tuple

import numpy as np

logger = logging.getLogger(__name__)

#: Input shapes used to check a chain against its model: (batch, height, width, channels).
PROBE_SHAPES = {"PNet": (1, 30, 41, 3), "RNet": (7, 24, 24, 3), "ONet": (5, 48, 48, 3)}


class LayerChain:
    """A model's trunk layers applied in order, then each head to the trunk's output."""

    def __init__(self, trunk: Sequence[Any], heads: Sequence[Any]) -> None:
        import tensorflow as tf

        self._to_tensor = tf.convert_to_tensor
        self.trunk = list(trunk)
        self.heads = list(heads)

    def __call__(self, inputs: Any) -> List[Any]:
        x = self._to_tensor(inputs)
        for layer in self.trunk:
            x = layer.call(x)
        return [head.call(x) for head in self.heads]


def split_trunk_and_heads(layers: Sequence[Any]) -> Tuple[List[Any], List[Any]]:
    """MTCNN's layout: the trailing run of layers of one type are the parallel heads."""
    first_head = len(layers) - 1
    while first_head > 0 and type(layers[first_head - 1]) is type(layers[-1]):
        first_head -= 1
    return list(layers[:first_head]), list(layers[first_head:])


def layer_chain_for(model: Any) -> Any:
    """A :class:`LayerChain` equal to ``model`` on a probe input, else ``model`` itself."""
    import tensorflow as tf

    probe_shape = PROBE_SHAPES.get(type(model).__name__)
    layers = list(getattr(model, "layers", []))
    if probe_shape is None or len(layers) < 2:
        return model
    chain = LayerChain(*split_trunk_and_heads(layers))
    probe = tf.constant(np.random.default_rng(0).uniform(-1, 1, probe_shape).astype(np.float32))
    try:
        expected, actual = model(probe), chain(probe)
        same = len(expected) == len(actual) and all(
            np.array_equal(np.asarray(e), np.asarray(a)) for e, a in zip(expected, actual)
        )
    except Exception as err:  # any layout this does not understand: keep Keras
        logger.debug("%s is called through Keras: %s", type(model).__name__, err)
        return model
    if not same:
        logger.debug("%s is called through Keras: layer by layer differs", type(model).__name__)
        return model
    return chain


def with_layer_chain(stage: Any) -> Any:
    """A shallow copy of an mtcnn stage whose network runs as a :class:`LayerChain`.

    The stage's own logic (patch extraction, thresholds, NMS) is untouched; mtcnn's
    object is not modified.
    """
    model = getattr(stage, "_model", None)
    if model is None:
        return stage
    chain = layer_chain_for(model)
    if chain is model:
        return stage
    lean = copy.copy(stage)
    lean._model = chain
    return lean
