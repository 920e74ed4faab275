"""The shared batched pipeline that every capability runs on.

    inputs --decode ahead--> images --detector, in batches--> faces per image
           --model stage: faces of several images, batch_size per forward pass-->
           outputs regrouped per input, in input order --> dicts at the API edge

``extract_faces`` (``detection``), ``represent`` (``representation``), ``verify`` and
``find`` differ only in their model stage and their final formatting. This module holds
what they share: decoding ahead (:class:`Prefetcher`), the per-input record
(:class:`ImageResult`), the model stage over many images' faces
(:func:`map_faces_in_batches`), and the single / batch / error conventions of the API
(:func:`collect_single`, :func:`collect_batch`).
"""

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, TypeVar

from numpy.typing import NDArray

from deepface.commons import image_utils
from deepface.commons.exceptions import BatchFaceNotDetected, BatchImageLoadError, FaceNotDetected, ImageLoadError
from deepface.models.Detector import DetectedFace

DEFAULT_BATCH_SIZE = 32

T = TypeVar("T")


@dataclass
class ImageResult:
    """The outcome for one input: its faces (and the model's outputs for them), or the
    error that stopped it.

    Attributes:
        index: the input's position in the call.
        source: a short description of the input (its path, or its kind).
        faces: the detected faces, in the detector's order.
        shape: the decoded image's shape.
        error: the exception that stopped this input, if any.
        outputs: the model stage's output for each face (same order as ``faces``).
    """

    index: int
    source: str
    faces: List[DetectedFace] = field(default_factory=list)
    shape: Tuple[int, ...] = ()
    error: Optional[Exception] = None
    outputs: List[Any] = field(default_factory=list)


# ---------------------------------------------------------------- decoding ahead


def decode_threads() -> int:
    """Threads decoding inputs ahead of the detector: ``DEEPFACE_DECODE_THREADS`` if set
    (0 decodes in the calling thread), else one per four CPUs, 1 to 4."""
    configured = os.environ.get("DEEPFACE_DECODE_THREADS")
    if configured is not None:
        try:
            return max(0, int(configured))
        except ValueError:
            raise ValueError(f"DEEPFACE_DECODE_THREADS must be an integer, not {configured!r}") from None
    return max(1, min(4, (os.cpu_count() or 2) // 4))


Decoded = Tuple[ImageResult, Optional[NDArray[Any]]]


class Prefetcher:
    """Decodes inputs ahead of the detector, in background threads, handed out in order.

    Inputs are taken from the caller's iterable in the calling thread, at most
    ``lookahead`` ahead of what was handed out; only decoding runs in the background
    (OpenCV and Pillow release the GIL), so decoding overlaps detection. At most
    ``lookahead`` decoded images wait, besides those being processed.
    """

    def __init__(self, imgs: Iterable[Any], lookahead: int, name_indices: bool) -> None:
        self._inputs = enumerate(imgs)
        self._lookahead = max(1, lookahead)
        self._name_indices = name_indices
        self._pending: Deque["Future[Decoded]"] = deque()
        workers = decode_threads()
        self._pool = (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deepface-decode") if workers else None
        )

    def __enter__(self) -> "Prefetcher":
        return self

    def __exit__(self, *exc: Any) -> None:
        for future in self._pending:
            future.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def take(self, count: int) -> List[Decoded]:
        """The next ``count`` inputs, decoded (fewer at the end; empty when done)."""
        taken = []
        while len(taken) < count:
            self._fill()
            if not self._pending:
                break
            taken.append(self._pending.popleft().result())
        self._fill()
        return taken

    def _fill(self) -> None:
        while len(self._pending) < self._lookahead:
            item = next(self._inputs, None)
            if item is None:
                return
            self._pending.append(self._submit(load_one, item[0], item[1], self._name_indices))

    def _submit(self, function: Any, *args: Any) -> "Future[Any]":
        if self._pool is not None:
            return self._pool.submit(function, *args)
        done: "Future[Any]" = Future()  # no decode threads: decode here, now
        try:
            done.set_result(function(*args))
        except BaseException as err:  # noqa: BLE001  (re-raised by .result(), as from a thread)
            done.set_exception(err)
        return done


def load_one(index: int, item: Any, name_indices: bool) -> Decoded:
    """One input decoded, or its load error recorded (``load_image`` raises only that)."""
    try:
        pixels, source = image_utils.load_image(item, index=index if name_indices else None)
    except ImageLoadError as err:
        return ImageResult(index=index, source=err.source, error=err), None
    return ImageResult(index=index, source=source, shape=pixels.shape), pixels


# ---------------------------------------------------------------- the model stage


def map_faces_in_batches(
    results: Iterable[ImageResult],
    forward: Callable[[List[DetectedFace]], List[Any]],
    batch_size: int,
) -> Iterator[ImageResult]:
    """Run ``forward`` over the faces of many images, ``batch_size`` faces per call.

    Results arrive in input order; faces of consecutive images are pooled until
    ``batch_size`` of them wait, then ``forward`` runs on them in slices of at most
    ``batch_size`` and each image's ``outputs`` receive its faces' outputs, regrouped by
    position. Results are yielded in input order once their faces are done; failed
    inputs pass through untouched. At most ``batch_size`` faces (plus one image's) wait.
    """
    waiting: List[ImageResult] = []
    waiting_faces = 0
    for result in results:
        waiting.append(result)
        if result.error is None:
            waiting_faces += len(result.faces)
        if waiting_faces >= batch_size:
            yield from _run_forward(waiting, forward, batch_size)
            waiting, waiting_faces = [], 0
    yield from _run_forward(waiting, forward, batch_size)


def _run_forward(
    results: List[ImageResult], forward: Callable[[List[DetectedFace]], List[Any]], batch_size: int
) -> List[ImageResult]:
    owners = [(result, k) for result in results if result.error is None for k in range(len(result.faces))]
    for result in results:
        if result.error is None:
            result.outputs = [None] * len(result.faces)
    for start in range(0, len(owners), batch_size):
        chunk = owners[start : start + batch_size]
        outputs = forward([result.faces[k] for result, k in chunk])
        if len(outputs) != len(chunk):
            raise RuntimeError(f"the model stage gave {len(outputs)} outputs for {len(chunk)} faces")
        for (result, k), output in zip(chunk, outputs):
            result.outputs[k] = output
    return results


# ---------------------------------------------------------------- API conventions


def collect_single(stream: Iterator[Tuple[ImageResult, T]]) -> T:
    """The one item of a one-input stream, raising its error."""
    ((result, payload),) = list(stream)
    if result.error is not None:
        raise result.error
    return payload


def collect_batch(stream: Iterable[Tuple[ImageResult, List[Any]]], total: int) -> List[List[Any]]:
    """One payload per input, in order; a batch error naming every failed input, with
    the other inputs' payloads in its ``results``."""
    outputs: List[List[Any]] = []
    errors: Dict[int, Exception] = {}
    for result, payload in stream:
        if result.error is not None:
            errors[result.index] = result.error
        outputs.append(payload)
    if errors:
        raise_batch_error(errors, outputs, total)
    return outputs


def raise_batch_error(errors: Dict[int, Exception], outputs: Sequence[List[Any]], total: int) -> None:
    """Raise the batch error for ``errors``: ``BatchFaceNotDetected`` when every failure
    is a missing face, else ``BatchImageLoadError``; both carry the others' results."""
    kept = {i: payload for i, payload in enumerate(outputs) if i not in errors}
    if all(isinstance(err, FaceNotDetected) for err in errors.values()):
        raise BatchFaceNotDetected(
            f"no face detected in {len(errors)} of {total} inputs (set "
            "enforce_detection=False to get the whole image for them instead)",
            errors,
            kept,
        )
    raise BatchImageLoadError(f"{len(errors)} of {total} inputs failed", errors, kept)
