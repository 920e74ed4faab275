"""Importing deep-learning engines side by side without crashing, and quietly."""

import contextlib
import importlib
import importlib.util
import logging
import os
import re
import sys
import threading
from typing import Iterator, Optional

# Importing TensorFlow before torchvision crashes the process (inside triton) with the
# CUDA builds of torch; importing these first avoids it.
_IMPORT_BEFORE_TENSORFLOW = ("torch", "torchvision")

#: TensorFlow's own variable: C++ log lines below this severity (0 info, 1 warning,
#: 2 error, 3 fatal only) are not printed.
TF_LOG_LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
#: What the command line sets it to, unless the user set it or asked for ``--verbose``:
#: also hides the ``E... failed call to cuInit`` line TensorFlow prints on a machine
#: without a GPU (a Python exception still surfaces as one).
QUIET_TF_LOG_LEVEL = 3
#: An absl (C++) log line: severity letter, date, time, thread, file:line].
_ABSL_LINE = re.compile(rb"^([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^ \]]+:\d+\] ")
_ABSL_SEVERITY = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}
_ABSL_BANNER = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
#: How long the stderr filter may take to pass on its last lines once TensorFlow is imported.
FILTER_JOIN_TIMEOUT_S = 5.0
#: The severity below which TensorFlow's import lines are dropped (see quiet_tensorflow_startup).
_quiet_level: Optional[int] = None


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def import_tensorflow_safely() -> None:
    """Prepare the process for TensorFlow; call it before anything imports TensorFlow.

    - torch and torchvision, where installed, are imported first: a process that uses
      mtcnn (TensorFlow) and later YOLO (torchvision) would crash otherwise.
    - With tf-keras installed, TensorFlow is told to use it (``TF_USE_LEGACY_KERAS=1``),
      as retina-face requires; it must be decided before TensorFlow's first import, so
      every TensorFlow detector agrees on it.
    - After :func:`quiet_tensorflow_startup`, TensorFlow is imported here, its absl
      start-up lines below ``TF_CPP_MIN_LOG_LEVEL`` filtered out of stderr.
    """
    if "tensorflow" in sys.modules:
        return
    if _installed("tf_keras"):
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    for name in _IMPORT_BEFORE_TENSORFLOW:
        if name not in sys.modules and _installed(name):
            importlib.import_module(name)
    if _quiet_level is not None and _installed("tensorflow"):
        with stderr_without_absl_lines(_quiet_level):
            importlib.import_module("tensorflow")


def quiet_tensorflow_startup() -> None:
    """Silence TensorFlow's start-up logging in this process (the command line calls it).

    Sets ``TF_CPP_MIN_LOG_LEVEL`` to :data:`QUIET_TF_LOG_LEVEL` unless the user set it,
    and makes :func:`import_tensorflow_safely` honour that level for the lines TensorFlow
    2.20+ prints through absl while it is imported, before it reads the variable (oneDNN,
    CUDA drivers). Nothing is imported here: TensorFlow is imported only where needed.
    """
    global _quiet_level
    os.environ.setdefault(TF_LOG_LEVEL_VARIABLE, str(QUIET_TF_LOG_LEVEL))
    try:
        _quiet_level = int(os.environ[TF_LOG_LEVEL_VARIABLE])
    except ValueError:
        _quiet_level = None  # not a level TensorFlow understands either: leave its output alone
    for name in ("absl", "tensorflow"):  # their Python loggers: warnings and above
        logging.getLogger(name).setLevel(logging.WARNING)


def is_absl_noise(line: bytes, min_level: int) -> bool:
    """Whether ``line`` is absl's pre-initialisation banner, or an absl log line below ``min_level``."""
    if line.rstrip(b"\r\n") == _ABSL_BANNER:
        return min_level > 0
    match = _ABSL_LINE.match(line)
    return bool(match) and _ABSL_SEVERITY[match.group(1)] < min_level


@contextlib.contextmanager
def stderr_without_absl_lines(min_level: int) -> Iterator[None]:
    """Within the block, file descriptor 2 (C++ code writes there too) goes through a
    filter that drops absl lines below ``min_level`` and passes everything else on."""
    sys.stderr.flush()
    original = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    forwarder = threading.Thread(
        target=_forward_lines, args=(read_end, original, min_level), name="stderr-filter", daemon=True
    )
    forwarder.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(original, 2)  # closes the pipe's last write end: the forwarder sees its end
        # a child process started meanwhile may hold a write end: never wait on it for long
        forwarder.join(timeout=FILTER_JOIN_TIMEOUT_S)
        os.close(original)


def _forward_lines(read_end: int, destination: int, min_level: int) -> None:
    pending = b""
    with os.fdopen(read_end, "rb", buffering=0) as source:
        while True:
            chunk = source.read(65536)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if not is_absl_noise(line, min_level):
                    os.write(destination, line + b"\n")
    if pending and not is_absl_noise(pending, min_level):
        os.write(destination, pending)


def patch_protobuf_for_mediapipe() -> None:
    """Let mediapipe 0.10.14 run beside the protobuf that TensorFlow needs.

    mediapipe 0.10.14 (the last release that ships its face model and accepts numpy 2)
    calls ``SymbolDatabase.GetPrototype``, which protobuf 5 removed; the same class comes
    from ``message_factory.GetMessageClass``.
    """
    from google.protobuf import message_factory, symbol_database

    if not hasattr(symbol_database.SymbolDatabase, "GetPrototype"):
        def get_prototype(_database: object, descriptor: object) -> type:
            return message_factory.GetMessageClass(descriptor)

        symbol_database.SymbolDatabase.GetPrototype = get_prototype
