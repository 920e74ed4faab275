"""Build a Ray Data job: a dataset of paths or images in, a dataset of faces out.

    import ray
    from deepface.ray import extract_faces_dataset

    paths = ray.data.from_items([{"path": p} for p in my_paths])
    faces = extract_faces_dataset(paths, detector_backend="mtcnn", num_actors=2)
    faces.write_parquet("faces/")

The helpers check the resource plan against the cluster first (a plan that can never run
is refused with :class:`ResourcePlanError`, not left to hang), then map the dataset's
batches through a fixed-size actor pool whose actors cap their engines' threads to their
CPUs and build their models once.
"""

import os
from typing import Any, Dict, Optional, Type

from deepface.commons.logger import get_logger
from deepface.options.verbs import DEFAULT_BATCH_SIZE
from deepface.ray.actors import (
    PATH_COLUMN,
    BatchLayout,
    FaceAnalyzer,
    FaceExtractor,
    FaceRepresenter,
    build_analyze_options,
    check_crop_format,
    crop_pixels_options,
)
from deepface.ray.resources import ResourcePlan, check_plan, cluster_nodes, upstream_task_cpus, warn_if_busy
from deepface.ray.threads import thread_environment

logger = get_logger(__name__)

#: Environment variables of the driver that the actors need too (weights folder, limits).
FORWARDED_VARIABLES = ("DEEPFACE_HOME", "DEEPFACE_MAX_IMAGE_PIXELS", "DEEPFACE_DECODE_THREADS",
                       "YOLO_CONFIG_DIR", "TF_USE_LEGACY_KERAS")
DEFAULT_ACTORS = 1
DEFAULT_CPUS = 1.0
DEFAULT_GPUS = 0.0
DEFAULT_CHANNELS = "rgb"  # as ray.data.read_images gives images


def extract_faces_dataset(
    ds: Any,
    column: str = PATH_COLUMN,
    *,
    channels: str = DEFAULT_CHANNELS,
    crops: Optional[str] = None,
    explode: bool = False,
    preserve_order: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    num_actors: int = DEFAULT_ACTORS,
    num_cpus: float = DEFAULT_CPUS,
    num_gpus: float = DEFAULT_GPUS,
    memory: Optional[int] = None,
    reserve_cpus: Optional[float] = None,
    runtime_env: Optional[Dict[str, Any]] = None,
    **extract_options: Any,
) -> Any:
    """The faces of every row of ``ds``: a dataset of rows ``path``, ``faces``, ``error``.

    Args:
        ds: a ``ray.data.Dataset`` whose ``column`` holds paths (decoded in the actors as
            a local call decodes them: they must be readable on every node), encoded
            bytes (``read_binary_files``) or images (``read_images``).
        column: the input column. A ``path`` column, if the dataset has one, fills the
            output's ``path``.
        channels: the channel order of image inputs: ``"rgb"`` (``read_images``) or ``"bgr"``.
        crops: ``"jpeg"`` or ``"png"`` to add each face's aligned crop, encoded, in ``crop``.
        explode: one row per face (``face_index``; -1 for an input without a face).
        preserve_order: output rows in input order (sets the dataset context's
            ``execution_options.preserve_order``).
        batch_size: rows per actor call, and the pipeline's batch size inside it.
        num_actors: actors in the pool, each with its own models.
        num_cpus, num_gpus: resources per actor (fractions allowed).
        memory: bytes of memory per actor (Ray's ``memory`` resource).
        reserve_cpus: CPUs to keep free for the tasks that produce ``ds`` (its read);
            ``None`` infers it from the dataset (1 for ``read_*``, 0 for ``from_items``).
        runtime_env: merged into the actors' runtime environment.
        **extract_options: ``extract_faces``'s keywords: its options table
            (``deepface.options.verbs.EXTRACT``) but ``batch_size`` (above) and the crop
            pixels' (``color_face``, ``normalize_face``, ``grayscale``); checked in the driver.

    Raises:
        ResourcePlanError: the actors can never get their resources on this cluster.
    """
    from deepface.modules.detection import ExtractOptions

    extract = {**extract_options, "batch_size": batch_size}
    options = ExtractOptions(**crop_pixels_options(extract))  # bad keywords fail here, not in an actor
    check_known_model("face_detector", options.detector_backend)
    check_crop_format(crops)
    plan = ResourcePlan(num_actors, num_cpus, num_gpus, memory, reserve_cpus)
    layout = BatchLayout(column, channels, explode, plan.engine_threads, use_gpu=bool(num_gpus))
    kwargs = {"layout": layout, "extract": extract, "crops": crops}
    return _map_with_actors(ds, FaceExtractor, kwargs, plan, batch_size, preserve_order, runtime_env)


def represent_dataset(
    ds: Any,
    column: str = PATH_COLUMN,
    *,
    channels: str = DEFAULT_CHANNELS,
    explode: bool = False,
    preserve_order: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    num_actors: int = DEFAULT_ACTORS,
    num_cpus: float = DEFAULT_CPUS,
    num_gpus: float = DEFAULT_GPUS,
    memory: Optional[int] = None,
    reserve_cpus: Optional[float] = None,
    runtime_env: Optional[Dict[str, Any]] = None,
    **represent_options: Any,
) -> Any:
    """The embeddings of every face of every row of ``ds``: rows ``path``, ``faces``
    (``facial_area``, ``face_confidence``, ``embedding`` as float32), ``error``.

    Takes the arguments of :func:`extract_faces_dataset` (but ``crops``) and
    ``represent``'s keywords: its options table (``deepface.options.verbs.REPRESENT``) but
    ``batch_size`` and ``return_face``.

    Raises:
        ResourcePlanError: the actors can never get their resources on this cluster.
    """
    from deepface.modules.representation import RepresentOptions

    if represent_options.get("return_face"):
        raise ValueError("return_face is not available in a dataset: ask extract_faces_dataset for crops")
    represent = {**represent_options, "batch_size": batch_size}
    options = RepresentOptions(**represent)  # bad keywords fail here, not in an actor
    check_known_model("face_detector", options.detector_backend)
    check_known_model("facial_recognition", options.model_name)
    plan = ResourcePlan(num_actors, num_cpus, num_gpus, memory, reserve_cpus)
    layout = BatchLayout(column, channels, explode, plan.engine_threads, use_gpu=bool(num_gpus))
    kwargs = {"layout": layout, "represent": represent}
    return _map_with_actors(ds, FaceRepresenter, kwargs, plan, batch_size, preserve_order, runtime_env)


def analyze_dataset(
    ds: Any,
    column: str = PATH_COLUMN,
    *,
    channels: str = DEFAULT_CHANNELS,
    explode: bool = False,
    preserve_order: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    num_actors: int = DEFAULT_ACTORS,
    num_cpus: float = DEFAULT_CPUS,
    num_gpus: float = DEFAULT_GPUS,
    memory: Optional[int] = None,
    reserve_cpus: Optional[float] = None,
    runtime_env: Optional[Dict[str, Any]] = None,
    **analyze_options: Any,
) -> Any:
    """The age, gender, emotion and race of every face of every row of ``ds``: rows
    ``path``, ``faces`` (deepface's ``analyze`` keys: ``region``, ``face_confidence``,
    ``age``, ``gender``, ``dominant_gender``...; null for an action not asked), ``error``.

    Takes the arguments of :func:`extract_faces_dataset` (but ``crops``) and ``analyze``'s
    keywords: its options table (``deepface.options.verbs.ANALYZE``) but ``batch_size``.

    Raises:
        ResourcePlanError: the actors can never get their resources on this cluster.
    """
    analyze = {**analyze_options, "batch_size": batch_size}
    options = build_analyze_options(analyze)  # bad keywords fail here, not in an actor
    check_known_model("face_detector", options.extract.detector_backend)
    plan = ResourcePlan(num_actors, num_cpus, num_gpus, memory, reserve_cpus)
    layout = BatchLayout(column, channels, explode, plan.engine_threads, use_gpu=bool(num_gpus))
    kwargs = {"layout": layout, "analyze": analyze}
    return _map_with_actors(ds, FaceAnalyzer, kwargs, plan, batch_size, preserve_order, runtime_env)


def _map_with_actors(
    ds: Any,
    actor: Type[Any],
    constructor_kwargs: Dict[str, Any],
    plan: ResourcePlan,
    batch_size: int,
    preserve_order: bool,
    runtime_env: Optional[Dict[str, Any]],
) -> Any:
    ray = import_ray()
    ensure_connected(ray)
    checked_plan(plan, ds)
    mapped = ds.map_batches(
        actor,
        fn_constructor_kwargs=constructor_kwargs,
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=plan.num_actors),
        runtime_env=actor_runtime_env(plan, runtime_env),
        **plan.remote_args(),
    )
    if preserve_order:
        mapped.context.execution_options.preserve_order = True
    return mapped


def check_known_model(task: str, name: str) -> None:
    """Refuse an unknown detector or model in the driver, before any actor starts."""
    from deepface.commons.exceptions import UnimplementedError
    from deepface.modules import modeling
    from deepface.modules.detection import SKIP

    known = modeling.AVAILABLE_MODELS[task]
    if name not in known and not (task == "face_detector" and name == SKIP):
        raise UnimplementedError(f"unknown {task} {name!r}; choose one of: {', '.join(sorted(known))}")


def checked_plan(plan: ResourcePlan, ds: Any) -> ResourcePlan:
    """``plan``, once checked against the connected cluster (see :func:`check_plan`)."""
    import ray

    reserve = plan.reserve_cpus if plan.reserve_cpus is not None else upstream_task_cpus(ds)
    check_plan(plan, cluster_nodes(), reserve)
    warn_if_busy(plan, ray.available_resources())
    return plan


def actor_runtime_env(plan: ResourcePlan, runtime_env: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """The actors' runtime environment: the user's, plus the thread caps and the driver's
    deepface variables (the user's own values win)."""
    env = dict(runtime_env or {})
    forwarded = {name: os.environ[name] for name in FORWARDED_VARIABLES if name in os.environ}
    env["env_vars"] = {**thread_environment(plan.engine_threads), **forwarded, **env.get("env_vars", {})}
    return env


def import_ray() -> Any:
    """``ray`` with Ray Data, or a ``MissingDependencyError`` naming the extra to install."""
    from deepface.commons.exceptions import MissingDependencyError

    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as error:
        raise MissingDependencyError(
            f"deepface.ray needs Ray Data: pip install 'deepface[ray]' (or 'ray[data]') [{error}]"
        ) from error
    return ray


def ensure_connected(ray: Any) -> None:
    """Connect to Ray as Ray Data would (a local instance, or ``RAY_ADDRESS``) if not yet."""
    if not ray.is_initialized():
        logger.info("Ray is not initialised: starting or joining one with ray.init()")
        ray.init()
