"""Resource plans for the actor pool: checked against the cluster before the job starts.

Ray Data waits silently, forever, for resources that can never be had: two 1-CPU actors
reading with ``read_images`` on a 2-CPU Ray hang, because the read task never gets a
CPU. :func:`check_plan` refuses such a plan with :class:`ResourcePlanError` instead,
naming what is missing.
"""

import math
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional

from deepface.commons.logger import get_logger

logger = get_logger(__name__)

GIB = 1024**3
#: CPUs a read task (or any other task upstream of the actors) takes unless told otherwise.
DEFAULT_TASK_CPUS = 1.0
#: Logical operators that hand over data already in memory: they run no task.
_IN_MEMORY_SOURCES = ("AbstractFrom", "InputData")


class ResourcePlanError(ValueError):
    """An actor pool that can never run on the cluster it is given (Ray would wait forever)."""


@dataclass(frozen=True)
class ResourcePlan:
    """What the job asks of the cluster.

    Attributes:
        num_actors: actors in the pool (a fixed size), each with a copy of the models.
        num_cpus: CPUs per actor (fractions allowed); the actor's engines get that many threads.
        num_gpus: GPUs per actor (fractions allowed); 0 runs on CPUs.
        memory: bytes of memory reserved per actor (Ray's ``memory`` resource), or ``None``.
        reserve_cpus: CPUs that must stay free for the tasks feeding the actors (reading
            files, earlier transforms); ``None`` infers it from the dataset.
    """

    num_actors: int = 1
    num_cpus: float = 1.0
    num_gpus: float = 0.0
    memory: Optional[int] = None
    reserve_cpus: Optional[float] = None

    def __post_init__(self) -> None:
        if not isinstance(self.num_actors, int) or self.num_actors < 1:
            raise ResourcePlanError(f"num_actors must be a positive integer, not {self.num_actors!r}")
        for name in ("num_cpus", "num_gpus"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0 or math.isnan(value):
                raise ResourcePlanError(f"{name} must be a non-negative number, not {value!r}")
        if self.num_cpus == 0 and self.num_gpus == 0:
            raise ResourcePlanError("num_cpus and num_gpus are both 0: an actor needs a CPU or a GPU")
        if self.memory is not None and (not isinstance(self.memory, (int, float)) or self.memory <= 0):
            raise ResourcePlanError(f"memory must be a positive number of bytes, not {self.memory!r}")
        if self.reserve_cpus is not None and self.reserve_cpus < 0:
            raise ResourcePlanError(f"reserve_cpus must be a non-negative number, not {self.reserve_cpus!r}")

    @property
    def engine_threads(self) -> int:
        """Threads each actor's engines may use: its CPUs, at least one."""
        return max(1, int(self.num_cpus))

    def remote_args(self) -> Dict[str, Any]:
        """The per-actor resources, as ``map_batches`` takes them."""
        args: Dict[str, Any] = {"num_cpus": self.num_cpus}
        if self.num_gpus:
            args["num_gpus"] = self.num_gpus
        if self.memory is not None:
            args["memory"] = self.memory
        return args


@dataclass(frozen=True)
class NodeCapacity:
    """The total resources of one alive node."""

    name: str
    cpus: float
    gpus: float
    memory: float

    @classmethod
    def from_ray_node(cls, node: Dict[str, Any]) -> "NodeCapacity":
        resources = node.get("Resources", {})
        return cls(
            name=str(node.get("NodeManagerAddress") or node.get("NodeID", "?")),
            cpus=float(resources.get("CPU", 0)),
            gpus=float(resources.get("GPU", 0)),
            memory=float(resources.get("memory", 0)),
        )

    def actors_that_fit(self, plan: ResourcePlan) -> int:
        """How many of the plan's actors this node can hold at once."""
        limits = [math.inf]
        if plan.num_cpus:
            limits.append(math.floor(self.cpus / plan.num_cpus + 1e-9))
        if plan.num_gpus:
            limits.append(math.floor(self.gpus / plan.num_gpus + 1e-9))
        if plan.memory:
            limits.append(math.floor(self.memory / plan.memory + 1e-9))
        fit = min(limits)
        return plan.num_actors if fit == math.inf else int(fit)


def cluster_nodes() -> List[NodeCapacity]:
    """The alive nodes of the connected Ray cluster."""
    import ray

    return [NodeCapacity.from_ray_node(node) for node in ray.nodes() if node.get("Alive")]


def check_plan(plan: ResourcePlan, nodes: Iterable[NodeCapacity], reserve_cpus: float) -> None:
    """Refuse a plan that can never run on ``nodes``: raises :class:`ResourcePlanError`.

    Refused: GPUs asked of a cluster without one; an actor larger than every node; more
    actors than the nodes hold together; actors that leave fewer than ``reserve_cpus``
    CPUs for the tasks that feed them (the read tasks of ``read_images``, say).
    """
    nodes = list(nodes)
    if not nodes:
        raise ResourcePlanError("the Ray cluster has no alive node")
    total_cpus = sum(node.cpus for node in nodes)
    total_gpus = sum(node.gpus for node in nodes)
    asked = _describe_actor(plan)
    if plan.num_gpus and not total_gpus:
        raise ResourcePlanError(
            f"each actor asks for {plan.num_gpus:g} GPU but the cluster has none "
            f"({len(nodes)} node(s), {total_cpus:g} CPUs): pass num_gpus=0"
        )
    fits = [node.actors_that_fit(plan) for node in nodes]
    if max(fits) == 0:
        raise ResourcePlanError(
            f"no node can hold one actor ({asked}); the largest node has {_describe_node(_largest(nodes))}"
        )
    if sum(fits) < plan.num_actors:
        raise ResourcePlanError(
            f"{plan.num_actors} actors ({asked} each) do not fit: the cluster's {len(nodes)} node(s) "
            f"hold {sum(fits)} at most; lower num_actors or the resources per actor"
        )
    left = total_cpus - plan.num_actors * plan.num_cpus
    if reserve_cpus > 0 and (left + 1e-9 < reserve_cpus or max(node.cpus for node in nodes) < reserve_cpus):
        raise ResourcePlanError(
            f"{plan.num_actors} actors x {plan.num_cpus:g} CPU leave {max(left, 0):g} of the cluster's "
            f"{total_cpus:g} CPUs, but the tasks feeding them (reading the dataset) need {reserve_cpus:g}: "
            "Ray would wait for ever. Lower num_actors or num_cpus (fractions are allowed), read "
            "paths instead of images, or pass reserve_cpus if the read tasks need fewer CPUs"
        )


def warn_if_busy(plan: ResourcePlan, available: Dict[str, float]) -> None:
    """Log a warning when the cluster could run the plan but lacks the resources right now."""
    needed_cpus = plan.num_actors * plan.num_cpus
    needed_gpus = plan.num_actors * plan.num_gpus
    if available.get("CPU", 0) + 1e-9 < needed_cpus or available.get("GPU", 0) + 1e-9 < needed_gpus:
        logger.warning(
            "the cluster has %s CPUs and %s GPUs free now; the %d actors need %g CPUs and %g GPUs: "
            "the job waits until other work releases them",
            available.get("CPU", 0), available.get("GPU", 0), plan.num_actors, needed_cpus, needed_gpus,
        )


def upstream_task_cpus(dataset: Any) -> float:
    """CPUs that the tasks producing ``dataset`` need: the most any of its operators asks
    (``read_images`` and other reads: 1 by default), 0 for data already in memory
    (``from_items``, ``from_pandas``...). 1 when the plan cannot be inspected."""
    try:
        root = dataset._logical_plan.dag
    except AttributeError:
        logger.debug("cannot inspect the dataset's plan; assuming its tasks need a CPU")
        return DEFAULT_TASK_CPUS
    needed = 0.0
    for operator in _walk(root):
        if any(base.__name__ in _IN_MEMORY_SOURCES for base in type(operator).__mro__):
            continue
        remote_args = getattr(operator, "ray_remote_args", None) or getattr(operator, "_ray_remote_args", None) or {}
        needed = max(needed, float(remote_args.get("num_cpus", DEFAULT_TASK_CPUS)))
    return needed


def _walk(operator: Any) -> Iterable[Any]:
    yield operator
    for parent in getattr(operator, "input_dependencies", []) or []:
        yield from _walk(parent)


def _describe_actor(plan: ResourcePlan) -> str:
    parts = [f"{plan.num_cpus:g} CPU"]
    if plan.num_gpus:
        parts.append(f"{plan.num_gpus:g} GPU")
    if plan.memory:
        parts.append(f"{plan.memory / GIB:.2f} GiB memory")
    return ", ".join(parts)


def _describe_node(node: NodeCapacity) -> str:
    return f"{node.cpus:g} CPUs, {node.gpus:g} GPUs, {node.memory / GIB:.2f} GiB memory"


def _largest(nodes: List[NodeCapacity]) -> NodeCapacity:
    return max(nodes, key=lambda node: (node.cpus, node.gpus, node.memory))
