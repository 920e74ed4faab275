"""What the ONNX recognition models share: onnxruntime imported with a clear error, the
providers for a device, a session run in the batches its input allows, input checks."""

from dataclasses import dataclass
from typing import Any, List, Optional, Union

import numpy as np
from numpy.typing import NDArray

from deepface.commons.exceptions import InvalidEmbeddingsShapeError, MissingDependencyError
from deepface.commons.logger import get_logger

logger = get_logger(__name__)


def onnx_providers(available: List[str], device: Optional[str]) -> List[Any]:
    """onnxruntime providers for ``device``.

    ``None``: CUDA when the installed onnxruntime offers it, else the CPU (deepface's
    default order); ``"cpu"``; ``"cuda"`` or ``"cuda:N"``. The CPU always comes last, for
    the operators another provider lacks.
    """
    cuda = "CUDAExecutionProvider"
    wants_cuda = device is None or str(device).startswith("cuda")
    providers: List[Any] = []
    if wants_cuda and cuda in available:
        index = str(device).split(":", 1)[1] if device and ":" in str(device) else "0"
        providers.append((cuda, {"device_id": int(index)}))
    elif device is not None and str(device).startswith("cuda"):
        logger.warning("device %r asked for, but onnxruntime offers only %s: running on the CPU",
                       device, available)
    providers.append("CPUExecutionProvider")
    return providers


@dataclass
class OnnxNet:
    """An onnxruntime session with one image input, run in batches its input allows.

    Attributes:
        session: the ``onnxruntime.InferenceSession``.
        input_name: the graph's (first) input.
        fixed_batch: the input's batch size when the file fixes it (SFace's file fixes 1),
            ``None`` when it is dynamic.
    """

    session: Any
    input_name: str
    fixed_batch: Optional[int]

    @classmethod
    def load(cls, path: str, device: Optional[str] = None) -> "OnnxNet":
        """Open ``path``; raises ``MissingDependencyError`` without onnxruntime."""
        ort = import_onnxruntime()
        options = ort.SessionOptions()
        options.log_severity_level = 3  # some graphs (SFace) warn harmlessly while optimised
        session = ort.InferenceSession(
            path, sess_options=options, providers=onnx_providers(ort.get_available_providers(), device)
        )
        first = session.get_inputs()[0]
        batch = first.shape[0] if first.shape else None
        fixed = batch if isinstance(batch, int) and batch > 0 else None
        logger.debug("%s: input %s %s (%s batch)", path, first.name, first.shape, fixed or "dynamic")
        return cls(session=session, input_name=first.name, fixed_batch=fixed)

    @property
    def input_shape(self) -> List[Union[int, str, None]]:
        """The declared input shape, e.g. ``[1, 3, 112, 112]`` or ``['None', 3, 112, 112]``."""
        return list(self.session.get_inputs()[0].shape)

    def run(self, blob: NDArray[np.float32]) -> NDArray[np.float32]:
        """The first output for ``blob`` (N, ...), in one call, or in chunks of the fixed
        batch size (the last chunk padded with zeros, whose rows are dropped)."""
        blob = np.ascontiguousarray(blob, dtype=np.float32)
        if self.fixed_batch is None:
            return self._run(blob)
        step = self.fixed_batch
        outputs = []
        for start in range(0, len(blob), step):
            chunk = blob[start:start + step]
            count = len(chunk)
            if count < step:
                padding = np.zeros((step - count,) + chunk.shape[1:], dtype=np.float32)
                chunk = np.concatenate([chunk, padding])
            outputs.append(self._run(chunk)[:count])
        return np.concatenate(outputs)

    def _run(self, blob: NDArray[np.float32]) -> NDArray[np.float32]:
        output = self.session.run(None, {self.input_name: blob})[0]
        return np.asarray(output, dtype=np.float32).reshape(len(blob), -1)


def import_onnxruntime() -> Any:
    """onnxruntime, or ``MissingDependencyError`` naming the pip command."""
    try:
        import onnxruntime
    except ImportError as err:
        raise MissingDependencyError(
            "this model runs on onnxruntime: pip install onnxruntime (onnxruntime-gpu for CUDA)"
        ) from err
    return onnxruntime


def check_faces(faces: NDArray[Any], model_name: str, size: int) -> None:
    """Raise unless ``faces`` is (N, size, size, 3)."""
    if faces.ndim != 4 or faces.shape[1:] != (size, size, 3):
        raise InvalidEmbeddingsShapeError(
            f"{model_name} takes faces shaped (N, {size}, {size}, 3), not {faces.shape}"
        )
