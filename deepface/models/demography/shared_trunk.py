"""An exact shortcut for ``analyze``: run a VGG-Face trunk once for the age, gender and
race models when their weight files hold the same weights for its leading layers.

deepface derives the three models from VGG-Face by replacing its last layer, and runs
each network over each face. Where the files' leading layers are bit-identical, those
layers compute identical activations for the same face, so they run once and each model's
remaining layers (its head) continue from that shared output. Whether they match is
checked when the models meet (every weight array compared, never assumed), logged once,
and the shortcut is used only for the layers that match.

Which real weight files share what is logged at INFO (``deepface.models.demography.
shared_trunk``) the first time ``analyze`` runs two or more of these models.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from numpy.typing import NDArray

from deepface.commons.logger import get_logger
from deepface.models.Demography import Demography
from deepface.commons import backend_utils
from deepface.commons.backend_utils import TENSORFLOW
from deepface.models import engines
from deepface.models.demography.keras_models import NetworkDemography
from deepface.models.facial_recognition.keras_base import compiled_inference, keras

logger = get_logger(__name__)

#: Sharing plans kept per process (one per set of models ``analyze`` has met).
MAX_CACHED_PLANS = 4


@dataclass(frozen=True)
class TrunkPlan:
    """How a set of Keras attribute models run: ``depth`` leading layers once, then heads.

    ``depth`` 0 means nothing is shared and each model runs whole.
    """

    models: Tuple[NetworkDemography, ...]
    depth: int
    total: int

    @property
    def names(self) -> str:
        return ", ".join(model.model_name for model in self.models)


def network_layers(model: Any) -> List[Any]:
    """A Keras model's computing layers in order (its input layer left out)."""
    input_layer = keras().layers.InputLayer
    return [layer for layer in model.layers if not isinstance(layer, input_layer)]


def is_linear_chain(model: Any) -> bool:
    """True when each layer feeds only the next one (a plain stack, as VGG-Face is)."""
    layers = network_layers(model)
    for before, after in zip(layers, layers[1:]):
        inbound = getattr(after, "_inbound_nodes", None) or getattr(after, "inbound_nodes", [])
        sources = {id(layer) for node in inbound for layer in _inbound_layers(node)}
        if sources and sources != {id(before)}:
            return False
    return True


def _inbound_layers(node: Any) -> List[Any]:
    layers = getattr(node, "inbound_layers", [])
    return list(layers) if isinstance(layers, (list, tuple)) else [layers]


def same_layer(layers: Sequence[Any]) -> bool:
    """True when ``layers`` (one per model) compute the same function: same class, same
    configuration apart from the name, bit-identical weights."""
    first = layers[0]
    config = _config_without_name(first)
    weights = first.get_weights()
    for other in layers[1:]:
        if type(other) is not type(first) or _config_without_name(other) != config:
            return False
        other_weights = other.get_weights()
        if len(other_weights) != len(weights):
            return False
        if not all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(weights, other_weights)):
            return False
    return True


def _config_without_name(layer: Any) -> Dict[str, Any]:
    config = dict(layer.get_config())
    config.pop("name", None)
    return config


def shared_depth(models: Sequence[Any]) -> int:
    """How many leading layers the Keras ``models`` share exactly (0 for none, also when
    the shared layers hold no weights: nothing worth running once). The last layer of any
    model is never counted: each model keeps a head of its own."""
    stacks = [network_layers(model) for model in models]
    shortest = min(len(stack) for stack in stacks)
    depth = 0
    while depth < shortest - 1 and same_layer([stack[depth] for stack in stacks]):
        depth += 1
    return depth if any(layer.weights for layer in stacks[0][:depth]) else 0


def plan_sharing(models: Sequence[NetworkDemography]) -> TrunkPlan:
    """Compare ``models``' networks and say how many leading layers can run once."""
    if len(models) < 2 or not all(is_linear_chain(model.model) for model in models):
        return TrunkPlan(tuple(models), 0, 0)
    depth = shared_depth([model.model for model in models])
    total = min(len(network_layers(model.model)) for model in models)
    plan = TrunkPlan(tuple(models), depth, total)
    _log_plan(plan)
    return plan


def _log_plan(plan: TrunkPlan) -> None:
    if plan.depth == 0:
        logger.info("%s share no leading layer: each runs whole", plan.names)
        return
    last = network_layers(plan.models[0].model)[plan.depth - 1]
    logger.info(
        "%s share their first %d of %d layers (through %s, bit-identical weights): "
        "those run once per face for all of them",
        plan.names, plan.depth, plan.total, last.name,
    )


class SharedTrunk:
    """The shared layers as one compiled graph, and each model's remaining layers as
    another, taking the shared layers' output."""

    def __init__(self, plan: TrunkPlan) -> None:
        k = keras()
        first = plan.models[0].model
        trunk_output = network_layers(first)[plan.depth - 1].output
        self.plan = plan
        self.trunk = k.models.Model(inputs=first.inputs, outputs=trunk_output)
        self.heads = [self._head(model.model, trunk_output.shape[1:], plan.depth) for model in plan.models]
        self.runtime = TENSORFLOW
        if engines.openvino_for_keras(pinned=backend_utils.engine_forced()):
            self._run_on_openvino(plan)
        if self.runtime == TENSORFLOW:
            self._trunk = compiled_inference(self.trunk)
            self._heads = [compiled_inference(head) for head in self.heads]

    def _run_on_openvino(self, plan: TrunkPlan) -> None:
        """The trunk and heads converted to OpenVINO (the trunk's conversion cached, keyed by
        the first model's weight file); on a converter's failure, TensorFlow runs them."""
        first = plan.models[0].runner
        source = first.network.fetch(TENSORFLOW)
        try:
            self._trunk = engines.openvino_graph(
                self.trunk, first.precision, source, f"{first.network.name}-trunk{plan.depth}"
            )
            self._heads = [engines.openvino_graph(head, first.precision) for head in self.heads]
        except Exception as err:  # pylint: disable=broad-except  # a converter's untyped failure
            logger.warning("OpenVINO cannot run the shared trunk (%s): TensorFlow runs it", err)
            return
        self.runtime = engines.OPENVINO
        logger.info("the shared trunk of %s runs on OpenVINO", plan.names)

    @staticmethod
    def _head(model: Any, feature_shape: Tuple[Any, ...], depth: int) -> Any:
        """``model``'s layers after the first ``depth``, as a model of their own (the
        same layer objects: no weight is copied)."""
        k = keras()
        features = k.layers.Input(shape=tuple(feature_shape))
        x = features
        for layer in network_layers(model)[depth:]:
            x = layer(x)
        return k.models.Model(inputs=features, outputs=x)

    def class_probabilities(self, faces: NDArray[np.float32]) -> List[NDArray[np.float32]]:
        """Each model's softmax output for ``faces``, in the plan's model order."""
        features = self._trunk(np.ascontiguousarray(faces, dtype=np.float32))
        outputs = []
        for model, head in zip(self.plan.models, self._heads):
            probabilities = np.asarray(head(features), dtype=np.float32)
            outputs.append(probabilities.reshape(len(faces), -1))
        return outputs


class _TrunkCache:
    """Sharing plans and their graphs per set of models, built once, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: "OrderedDict[Tuple[int, ...], Optional[SharedTrunk]]" = OrderedDict()

    def get(self, models: Tuple[NetworkDemography, ...]) -> Optional[SharedTrunk]:
        key = tuple(id(model) for model in models)
        with self._lock:
            if key not in self._entries:
                plan = plan_sharing(models)
                self._entries[key] = SharedTrunk(plan) if plan.depth > 0 else None
                while len(self._entries) > MAX_CACHED_PLANS:
                    self._entries.popitem(last=False)
            self._entries.move_to_end(key)
            return self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_trunks = _TrunkCache()


def trunk_candidates(models: Sequence[Demography]) -> Tuple[NetworkDemography, ...]:
    """The models that may share a trunk: those run by TensorFlow itself (whose Keras layers
    can be compared and cut) that take faces unchanged (the emotion model converts them
    to 48x48 gray, so it never shares)."""
    return tuple(
        model for model in models
        if isinstance(model, NetworkDemography)
        and model.runner.runtime == TENSORFLOW
        and type(model).network_input is NetworkDemography.network_input
    )


def predict_all(
    models: Sequence[Demography], faces: NDArray[np.float32], share_trunk: bool = True
) -> List[NDArray[Any]]:
    """Each model's ``predict_batch`` of ``faces``, in ``models``' order; models whose
    leading layers are identical run those layers once (``share_trunk=False`` never
    shares, for comparison)."""
    candidates = trunk_candidates(models) if share_trunk and len(faces) else ()
    shared = _trunks.get(candidates) if len(candidates) >= 2 else None
    by_model: Dict[int, NDArray[Any]] = {}
    if shared is not None:
        for model, probabilities in zip(shared.plan.models, shared.class_probabilities(faces)):
            by_model[id(model)] = model.from_probabilities(probabilities)
    return [by_model[id(model)] if id(model) in by_model else model.predict_batch(faces) for model in models]


def forget_plans() -> None:
    """Drop every cached plan (after models are rebuilt, and in tests)."""
    _trunks.clear()


__all__ = ["SharedTrunk", "TrunkPlan", "forget_plans", "plan_sharing", "predict_all", "shared_depth"]
