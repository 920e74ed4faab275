"""How many CPUs this process may use, and a process-wide budget of them for onnxruntime.

An onnxruntime session runs each forward pass on its own pool of intra-op threads. With
one pool as large as the machine, two sessions running at once (two models, or one per
thread) would put twice as many busy threads as CPUs. Every session here sizes its pool
to the usable CPUs (or the caller's keyword) and holds that many slots of
:data:`CPU_SLOTS` while it runs, so the threads running at once never exceed the CPUs.
"""

import math
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

CGROUP_V2_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")


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


def resolve_threads(requested: Optional[int]) -> int:
    """``requested`` intra-op threads if given (at least 1), else the usable CPUs."""
    if requested is None:
        return usable_cpus()
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


#: The process's budget, shared by every onnxruntime YOLO session.
CPU_SLOTS = CpuSlots(usable_cpus())
