"""One thread budget for every engine: how many CPUs this process may keep busy.

``DEEPFACE_NUM_THREADS`` sets it; unset, it is the CPUs the scheduler lets this process
use, capped by a container's CPU quota (cgroup v2 ``cpu.max`` or v1 CFS quota). Every
runner reads it: onnxruntime's intra-op pools, OpenVINO's inference threads, torch,
TensorFlow (when set before it starts) and OpenCV (:func:`apply_to_engines`).

A session runs each forward pass on its own pool of threads. With pools as large as the
machine, two passes at once (two models, or one per caller thread) would put twice as
many busy threads as CPUs; :data:`CPU_SLOTS` is the process's budget that a pass holds
while it runs, so the threads running at once never exceed it.
"""

import math
import os
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, Optional

from deepface.commons.logger import get_logger

logger = get_logger(__name__)

THREADS_ENV_VAR = "DEEPFACE_NUM_THREADS"

CGROUP_V2_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")

#: Variables the math libraries and TensorFlow read when they load.
THREAD_VARIABLES = (
    THREADS_ENV_VAR,
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)


def affinity_cpus() -> int:
    """CPUs the scheduler lets this process run on (all of them where affinity is unknown)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cgroup_cpu_quota(
    cpu_max: Path = CGROUP_V2_CPU_MAX, quota_file: Path = CGROUP_V1_QUOTA, period_file: Path = CGROUP_V1_PERIOD
) -> Optional[float]:
    """The container's CPU limit in CPUs (cgroup v2 ``cpu.max``, else v1 CFS quota), None if unlimited."""
    try:
        quota, period = cpu_max.read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int(quota_file.read_text())
        return None if quota_us <= 0 else quota_us / int(period_file.read_text())
    except (OSError, ValueError):
        return None


def usable_cpus() -> int:
    """The CPUs this process may keep busy: its affinity, capped by a container quota."""
    cpus = affinity_cpus()
    quota = cgroup_cpu_quota()
    if quota is not None:
        cpus = min(cpus, max(1, math.ceil(quota)))
    return max(1, cpus)


def configured_threads() -> Optional[int]:
    """``DEEPFACE_NUM_THREADS`` as a number, None when unset.

    Raises:
        ValueError: it is set to something other than a whole number of at least 1.
    """
    value = os.environ.get(THREADS_ENV_VAR, "").strip()
    if not value:
        return None
    try:
        threads = int(value)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ValueError(f"{THREADS_ENV_VAR} must be a whole number of at least 1, not {value!r}")
    return threads


def thread_budget() -> int:
    """The threads every engine may use: ``DEEPFACE_NUM_THREADS``, else :func:`usable_cpus`."""
    return configured_threads() or usable_cpus()


def resolve_threads(requested: Optional[int]) -> int:
    """``requested`` threads if given (at least 1), else the process's :func:`thread_budget`."""
    if requested is None:
        return thread_budget()
    if int(requested) < 1:
        raise ValueError(f"intra_op_threads must be at least 1, not {requested}")
    return int(requested)


class CpuSlots:
    """A counting budget of CPUs: a forward pass holds as many slots as it has threads."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.in_use = 0
        self.peak = 0  # the most slots held at once (for tests and diagnostics)
        self._changed = threading.Condition()

    @contextmanager
    def hold(self, threads: int) -> Iterator[None]:
        """Wait until ``threads`` slots are free (a pool larger than the budget takes all
        of it), hold them for the block, then give them back."""
        wanted = min(threads, self.total)
        with self._changed:
            self._changed.wait_for(lambda: self.total - self.in_use >= wanted)
            self.in_use += wanted
            self.peak = max(self.peak, self.in_use)
        try:
            yield
        finally:
            with self._changed:
                self.in_use -= wanted
                self._changed.notify_all()


#: The process's budget, shared by the sessions that hold slots while they run.
CPU_SLOTS = CpuSlots(thread_budget())


def thread_environment(threads: int) -> Dict[str, str]:
    """The environment variables that limit the engines to ``threads`` threads."""
    return {name: str(threads) for name in THREAD_VARIABLES}


def apply_to_engines(threads: Optional[int] = None) -> int:
    """Limit OpenCV, torch and TensorFlow (if not yet started) in this process to
    ``threads`` (default: the budget), and set the variables the math libraries read
    when they load. Returns the number applied."""
    global _applied
    threads = resolve_threads(threads)
    with _applied_lock:
        os.environ.update(thread_environment(threads))
        import cv2

        cv2.setNumThreads(threads)
        _cap_torch(threads)
        _cap_tensorflow(threads)
        _applied = threads
    logger.debug("engine threads set to %d", threads)
    return threads


_applied_lock = threading.RLock()
_applied: Optional[int] = None


def ensure_applied() -> int:
    """The engines' threads: set to the budget by the first caller in the process (runners
    call it when they load), unless :func:`apply_to_engines` already set them."""
    with _applied_lock:
        return _applied if _applied is not None else apply_to_engines()


def _cap_torch(threads: int) -> None:
    if "torch" not in sys.modules:
        return  # it reads OMP_NUM_THREADS when it loads
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # only settable before torch's first parallel work
        logger.debug("torch's inter-op threads were already started")


def _cap_tensorflow(threads: int) -> None:
    if "tensorflow" not in sys.modules:
        return  # it reads TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS when it loads
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow's context is already initialised
        logger.debug("TensorFlow started before the thread budget was set; it keeps its own thread count")
