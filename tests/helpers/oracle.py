"""Running upstream deepface 0.0.103 (the oracle) in a subprocess, for tests.

Upstream deepface shares this package's name, so it runs in its own process with
``PYTHONPATH`` pointing at ``.oracle/`` and a working directory outside the checkout.
"""

import fcntl
import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

import numpy as np
import pytest

TESTS_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = TESTS_DIR.parent
ORACLE_DIR = Path(os.environ.get("DEEPFACE_ORACLE_DIR", REPO_DIR / ".oracle"))
ORACLE_SCRIPTS = TESTS_DIR / "oracle"


def oracle_or_skip() -> Path:
    """The oracle's folder, or skip the test saying how to install it."""
    if not (ORACLE_DIR / "deepface" / "DeepFace.py").is_file():
        pytest.skip(f"upstream deepface is not installed in {ORACLE_DIR} (run: make oracle)")
    return ORACLE_DIR


def run_oracle_script(
    script: str, args: Sequence[str], home: Path, timeout: int = 1800, extra_env: Optional[Dict[str, str]] = None
) -> str:
    """Run ``tests/oracle/<script>`` with the oracle on the path; return its stdout."""
    oracle_or_skip()
    env = {
        **os.environ,
        "PYTHONPATH": str(ORACLE_DIR),
        "DEEPFACE_HOME": str(home),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        **(extra_env or {}),
    }
    done = subprocess.run(
        [sys.executable, str(ORACLE_SCRIPTS / script), *args],
        cwd=home, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )
    assert done.returncode == 0, f"oracle {script} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done.stdout


@contextmanager
def file_locks(home: Path, names: Sequence[str]) -> Iterator[None]:
    """Hold an exclusive lock per name under ``home/.locks`` (taken in sorted order, so two
    processes asking for overlapping names never deadlock): the xdist workers of a run
    share one ``weights_home`` and must not write the same file at once."""
    folder = home / ".locks"
    folder.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        for name in sorted(set(names)):
            handle = stack.enter_context(open(folder / f"{name}.lock", "a", encoding="utf-8"))
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield


def make_once(home: Path, names: Sequence[str], make) -> None:
    """Call ``make(missing)`` for the names not yet made in ``home`` (by any process of the
    run), under their locks, and record them as made."""
    done = home / ".done"
    with file_locks(home, names):
        missing = [name for name in names if not (done / name).exists()]
        if missing:
            make(missing)
            done.mkdir(exist_ok=True)
            for name in missing:
                (done / name).touch()


def write_random_weights(home: Path, model_names: List[str]) -> None:
    """Write random-weight files of deepface's own architectures into ``home``'s weights
    folder, once per run: another module or xdist worker may have written them already."""
    make_once(home, model_names, lambda missing: run_oracle_script("write_random_weights.py", missing, home))


def write_random_engine_weights(home: Path, model_names: List[str]) -> None:
    """Write random-weight ``.pth`` files of deepface's own PyTorch architectures, and the
    same networks exported to ``.onnx``, into ``home``'s weights folder, once per run."""
    tags = {f"engines-{name}": name for name in model_names}
    make_once(home, list(tags), lambda missing: run_oracle_script(
        "write_random_engine_weights.py", [tags[tag] for tag in missing], home))


def oracle_embeddings(home: Path, model_name: str, faces: np.ndarray, engine: Optional[str] = None) -> np.ndarray:
    """The oracle's embeddings of preprocessed ``faces`` (N, H, W, 3), each run alone, on
    ``engine`` (``DEEPFACE_BACKEND_ENGINE``; the oracle's default, TensorFlow, when None)."""
    scratch = Path(tempfile.mkdtemp(prefix=f"oracle-{model_name}-{engine or 'default'}-", dir=home))  # home may be shared
    source, target = scratch / "faces.npy", scratch / "embeddings.npy"
    np.save(source, faces.astype(np.float32))
    env = {"DEEPFACE_BACKEND_ENGINE": engine} if engine else None
    out = run_oracle_script("run_forward.py", [model_name, str(source), str(target)], home, extra_env=env)
    assert str(ORACLE_DIR) in out, "the oracle run did not use upstream deepface"
    return np.load(target)
