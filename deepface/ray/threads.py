"""Cap an actor's engines to the CPUs Ray gave it.

Ray sets ``OMP_NUM_THREADS`` for its workers, but OpenCV still starts a thread per core
and TensorFlow ignores the variable: on a large machine every actor would oversubscribe
it. The environment variables are set in the actor's runtime environment, so they are
read when the engines first load; :func:`cap_engine_threads` then sets the engines that
are already loaded, before the actor builds its models.
"""

from deepface.commons import thread_budget

THREAD_VARIABLES = thread_budget.THREAD_VARIABLES
thread_environment = thread_budget.thread_environment


def cap_engine_threads(threads: int) -> None:
    """Limit OpenCV, torch, TensorFlow (if not yet initialised) and the math libraries
    to ``threads`` threads in this process. Call it before building any model."""
    thread_budget.apply_to_engines(threads)
