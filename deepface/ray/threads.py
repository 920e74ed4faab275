"""Cap an actor's engines to the CPUs Ray gave it.

Ray sets ``OMP_NUM_THREADS`` for its workers, but OpenCV still starts a thread per core
and TensorFlow ignores the variable: on a large machine every actor would oversubscribe
it. The environment variables are set in the actor's runtime environment, so they are
read when the engines first load; :func:`cap_engine_threads` then sets the engines that
are already loaded, before the actor builds its models.
"""

import os
import sys
from typing import Dict

from deepface.commons.logger import get_logger

logger = get_logger(__name__)

#: Variables the math libraries and TensorFlow read when they load.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)


def thread_environment(threads: int) -> Dict[str, str]:
    """The environment variables that limit the engines to ``threads`` threads."""
    return {name: str(threads) for name in THREAD_VARIABLES}


def cap_engine_threads(threads: int) -> None:
    """Limit OpenCV, torch, TensorFlow (if not yet initialised) and the math libraries
    to ``threads`` threads in this process. Call it before building any model."""
    os.environ.update(thread_environment(threads))
    import cv2

    cv2.setNumThreads(threads)
    _cap_torch(threads)
    _cap_tensorflow(threads)
    logger.debug("engine threads capped at %d", threads)


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
        logger.warning("TensorFlow was initialised before the thread cap; it keeps its own thread count")
