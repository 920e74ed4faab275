"""YOLO face models on onnxruntime: exported once from the same weights, verified, cached.

Pre- and post-processing are ultralytics' own (its letterbox, NMS and coordinate scaling),
so only the network's engine changes: the same images reach it, and its raw outputs are
turned into faces as ultralytics' predictor turns them.

Where the export lives: beside the weights (``x.pt`` -> ``x.onnx``) when that folder is
writable, else in a user cache folder (``$XDG_CACHE_HOME/deepface/onnx``, by default
``~/.cache/deepface/onnx``) under a name keyed by the weights' hash. A sidecar
(``x.onnx.json``) records the SHA-256 of the weights it came from and of the ONNX file
itself: an export of other weights, or a damaged file, is rebuilt. An export is written
to a temporary folder in the same place and renamed over the target, so two processes
exporting at once each leave a whole file. Whatever fails here raises
:class:`OnnxUnavailable`, which the detector turns into a fall-back to torch.
"""

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from numpy.typing import NDArray

from deepface.commons.logger import get_logger
from deepface.commons.thread_budget import CPU_SLOTS, resolve_threads

logger = get_logger(__name__)

IMAGE_SIZE = 640  # ultralytics' default predict size
STRIDE = 32
NMS_IOU = 0.7  # ultralytics' default
MAX_DETECTIONS = 300  # ultralytics' default
FACE_KEYPOINTS = (5, 3)
SIDECAR_SUFFIX = ".json"
HASH_CHUNK = 1 << 20


class OnnxUnavailable(RuntimeError):
    """The ONNX model could not be exported, written or loaded (the reason is the message)."""


@dataclass
class Detections:
    """One image's faces: centre boxes (cx, cy, w, h), scores, keypoints (x, y) or None."""

    xywh: NDArray[np.float32]
    confidence: NDArray[np.float32]
    keypoints: Optional[NDArray[np.float32]]


def onnxruntime_installed() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/deepface/onnx``, by default ``~/.cache/deepface/onnx``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "deepface" / "onnx"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def candidate_paths(weights_path: Path, weights_sha256: str, cache_dir: Path) -> List[Path]:
    """Where the export may be, in order: beside the weights, then the user cache."""
    beside = weights_path.with_suffix(".onnx")
    cached = cache_dir / f"{weights_path.stem}-{weights_sha256[:16]}.onnx"
    return [beside, cached]


def sidecar_of(onnx_path: Path) -> Path:
    return onnx_path.with_name(onnx_path.name + SIDECAR_SUFFIX)


def read_verified(onnx_path: Path, weights_sha256: str) -> Optional[bytes]:
    """The ONNX file's bytes if its sidecar vouches for them and for these weights, else None."""
    try:
        record = json.loads(sidecar_of(onnx_path).read_text())
        model = onnx_path.read_bytes()
    except (OSError, ValueError):
        return None
    if record.get("weights_sha256") != weights_sha256:
        logger.debug("%s was exported from other weights: rebuilding it", onnx_path)
        return None
    if record.get("onnx_sha256") != hashlib.sha256(model).hexdigest():
        logger.warning("%s does not match its checksum (damaged?): rebuilding it", onnx_path)
        return None
    return model


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``target``, then rename it over ``target``."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def quiet_ultralytics() -> Iterator[None]:
    """Keep ultralytics' export report off stdout (where the command line may write JSON)."""
    from ultralytics.utils import LOGGER

    level = LOGGER.level
    LOGGER.setLevel(logging.WARNING)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        LOGGER.setLevel(level)


def run_exporter(weights_copy: Path) -> Path:
    """Export ``weights_copy`` with ultralytics' exporter; returns the ONNX file it wrote."""
    from ultralytics import YOLO

    with quiet_ultralytics():
        exported = YOLO(str(weights_copy)).export(format="onnx", dynamic=True, simplify=False, verbose=False)
    return Path(str(exported))


def export_to(target: Path, weights_path: Path, weights_sha256: str) -> bytes:
    """Export the weights and write the model (then its sidecar) to ``target``, atomically.

    The exporter writes next to the weights it reads, so it works on a copy in a private
    temporary folder beside ``target``. Raises OSError where ``target``'s folder is not writable.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(dir=target.parent, prefix=".onnx-export-"))
    try:
        weights_copy = workdir / weights_path.name
        shutil.copyfile(weights_path, weights_copy)
        logger.info("exporting %s to ONNX (once) -> %s", weights_path, target)
        model = run_exporter(weights_copy).read_bytes()
        write_atomically(target, model)
        record = {"weights_sha256": weights_sha256, "onnx_sha256": hashlib.sha256(model).hexdigest()}
        write_atomically(sidecar_of(target), json.dumps(record).encode())
        return model
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def export_anywhere(weights_path: Path, weights_sha256: str, candidates: Sequence[Path]) -> Tuple[Path, bytes]:
    """Export to the first candidate folder that takes it (where, and the model's bytes);
    OnnxUnavailable if none does."""
    if importlib.util.find_spec("onnx") is None:
        # ultralytics' exporter would try to pip install it
        raise OnnxUnavailable("exporting to ONNX needs the onnx package: pip install onnx")
    problems = []
    for target in candidates:
        try:
            return target, export_to(target, weights_path, weights_sha256)
        except OSError as error:
            problems.append(f"{target.parent}: {error}")
        except Exception as error:  # noqa: BLE001  (the exporter's own failure: fall back to torch)
            raise OnnxUnavailable(f"exporting {weights_path} to ONNX failed: {error!r}") from error
    raise OnnxUnavailable(f"no folder to write the ONNX export of {weights_path}: {'; '.join(problems)}")


class OnnxYolo:
    """Runs a YOLO face model exported to ONNX, as ultralytics' predictor would run it.

    Args:
        weights_path: the ``.pt`` weights (exported once, see the module's notes).
        has_keypoints: whether the model gives the eyes (pose models).
        intra_op_threads: the session's threads; None: the CPUs this process may use.
        cache_dir: the user cache folder for exports; None: :func:`default_cache_dir`.

    Raises:
        OnnxUnavailable: the model could not be exported, written or loaded.
    """

    def __init__(
        self,
        weights_path: str,
        has_keypoints: bool,
        intra_op_threads: Optional[int] = None,
        cache_dir: Optional[str] = None,
    ) -> None:
        try:
            import onnxruntime
            import torch
            from ultralytics.data.augment import LetterBox
            from ultralytics.utils import nms, ops
        except ImportError as err:
            raise OnnxUnavailable(f"the onnx engine needs onnxruntime beside ultralytics: {err}") from err
        self._onnxruntime, self._torch, self._nms, self._ops = onnxruntime, torch, nms, ops
        self.threads = resolve_threads(intra_op_threads)
        self.model_path: Optional[Path] = None  # the export in use, once loaded
        self.session = self._load(Path(weights_path), Path(cache_dir) if cache_dir else default_cache_dir())
        self.input_name = self.session.get_inputs()[0].name
        self.letterbox = LetterBox((IMAGE_SIZE, IMAGE_SIZE), auto=True, stride=STRIDE)
        self.has_keypoints = has_keypoints

    def _load(self, weights_path: Path, cache_dir: Path) -> Any:
        """A session of a verified export, rebuilding a missing, stale or unloadable one."""
        weights_sha256 = sha256_of(weights_path)
        candidates = candidate_paths(weights_path, weights_sha256, cache_dir)
        for path in candidates:
            model = read_verified(path, weights_sha256)
            if model is None:
                continue
            try:
                session = self._session(model)
            except Exception as error:  # noqa: BLE001  (onnxruntime's load error: export again)
                logger.warning("%s could not be loaded (%s): rebuilding it", path, error)
                continue
            self.model_path = path
            return session
        self.model_path, model = export_anywhere(weights_path, weights_sha256, candidates)
        try:
            return self._session(model)
        except Exception as error:  # noqa: BLE001
            raise OnnxUnavailable(f"onnxruntime cannot load the export of {weights_path}: {error!r}") from error

    def _session(self, model: bytes) -> Any:
        options = self._onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        # Threads sleep between passes instead of spinning: spinning ones took the CPU from
        # the rest of the pipeline and from other processes on this shared 2-core machine
        # (yolov8n, 16 frames of 640x480, alternated in one process: 7.0-8.4 img/s
        # spinning against 11.7-14.2 without, three pairs on a loaded machine).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return self._onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    def predict(self, imgs: Sequence[NDArray[Any]], min_confidence: float) -> List[Detections]:
        """Detections for images of one shape, in one forward pass."""
        boxed = np.stack([self.letterbox(image=img) for img in imgs])
        tensor = np.ascontiguousarray(boxed[..., ::-1].transpose(0, 3, 1, 2)).astype(np.float32) / 255
        with CPU_SLOTS.hold(self.threads):
            (raw,) = self.session.run(None, {self.input_name: tensor})[:1]
        kept = self._nms.non_max_suppression(
            self._torch.from_numpy(raw), min_confidence, NMS_IOU,
            max_det=MAX_DETECTIONS, nc=1,
        )
        return [self._detections(pred, tensor.shape[2:], img.shape) for pred, img in zip(kept, imgs)]

    def _detections(self, pred: Any, input_shape: Any, image_shape: Any) -> Detections:
        ops = self._ops
        boxes = ops.scale_boxes(input_shape, pred[:, :4].clone(), image_shape)
        keypoints = None
        if self.has_keypoints:
            points = pred[:, 6:].view(pred.shape[0], *FACE_KEYPOINTS)
            keypoints = ops.scale_coords(input_shape, points, image_shape)[..., :2].numpy()
        return Detections(
            xywh=ops.xyxy2xywh(boxes).numpy(), confidence=pred[:, 4].numpy(), keypoints=keypoints
        )
