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
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, TypeVar

from numpy.typing import NDArray

from deepface.commons import image_utils, timings
from deepface.commons.exceptions import (
    SYSTEMIC_ERRORS,
    BatchFaceNotDetected,
    BatchImageLoadError,
    FaceNotDetected,
    ImageLoadError,
    ModelFailure,
)
from deepface.commons.logger import get_logger
from deepface.models.Detector import DetectedFace
from deepface.options.verbs import DEFAULT_BATCH_SIZE  # noqa: F401 (written once, in the options table)

logger = get_logger(__name__)

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
        image: the decoded image, kept only while a later stage needs the original
            pixels (anti-spoofing crops around each face).
    """

    index: int
    source: str
    faces: List[DetectedFace] = field(default_factory=list)
    shape: Tuple[int, ...] = ()
    error: Optional[Exception] = None
    outputs: List[Any] = field(default_factory=list)
    image: Optional[NDArray[Any]] = field(default=None, repr=False)


def input_name(result: ImageResult, name_indices: bool = True) -> str:
    """How messages name an input: ``input 3 (photo.jpg)`` in a batch, ``photo.jpg`` alone."""
    return f"input {result.index} ({result.source})" if name_indices else result.source


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


_pools: Dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def decode_pool(workers: int) -> ThreadPoolExecutor:
    """The process's decode thread pool with ``workers`` threads, created on first use
    and shared by every call (a call no longer starts and joins its own threads)."""
    with _pools_lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deepface-decode")
            _pools[workers] = pool
        return pool


def _forget_pools_after_fork() -> None:
    """A forked child inherits the pools but not their threads: start afresh."""
    global _pools_lock
    _pools.clear()
    _pools_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools_after_fork)


class Prefetcher:
    """Decodes inputs ahead of the detector, in background threads, handed out in order.

    Inputs are taken from the caller's iterable in the calling thread, at most
    ``lookahead`` ahead of what was handed out; only decoding runs in the background
    (OpenCV and Pillow release the GIL), so decoding overlaps detection. At most
    ``lookahead`` decoded images wait, besides those being processed.

    When the caller's iterable raises, the inputs already taken from it are still handed
    out; the exception is raised by the ``take`` that finds nothing else left.
    """

    def __init__(
        self, imgs: Iterable[Any], lookahead: int, name_indices: bool, max_pixels: Optional[int] = None
    ) -> None:
        self._inputs = enumerate(imgs)
        self._lookahead = max(1, lookahead)
        self._name_indices = name_indices
        self._max_pixels = max_pixels
        self._pending: Deque["Future[Decoded]"] = deque()
        self._source_error: Optional[BaseException] = None
        workers = decode_threads()
        self._pool = decode_pool(workers) if workers else None

    def __enter__(self) -> "Prefetcher":
        return self

    def __exit__(self, *exc: Any) -> None:
        for future in self._pending:
            future.cancel()
        for future in self._pending:
            if not future.cancelled():
                future.exception()  # wait: no decode of ours outlives the call
        self._pending.clear()

    def take(self, count: int) -> List[Decoded]:
        """The next ``count`` inputs, decoded (fewer at the end; empty when done).

        Raises the caller's iterable's exception once every input taken before it has
        been handed out.
        """
        taken = []
        with timings.stage("load"):  # the wait for decoded inputs (decoding ahead overlaps the rest)
            while len(taken) < count:
                self._fill()
                if not self._pending:
                    break
                taken.append(self._pending.popleft().result())
            self._fill()
        if not taken and self._source_error is not None:
            error, self._source_error = self._source_error, None
            raise error
        return taken

    def _fill(self) -> None:
        while len(self._pending) < self._lookahead and self._source_error is None:
            try:
                item = next(self._inputs, None)
            except Exception as error:  # the caller's generator failed: hand out what we have first
                self._source_error = error
                return
            if item is None:
                return
            self._pending.append(self._submit(load_one, item[0], item[1], self._name_indices, self._max_pixels))

    def _submit(self, function: Any, *args: Any) -> "Future[Any]":
        if self._pool is not None:
            return self._pool.submit(function, *args)
        done: "Future[Any]" = Future()  # no decode threads: decode here, now
        try:
            done.set_result(function(*args))
        except BaseException as err:  # noqa: BLE001  (re-raised by .result(), as from a thread)
            done.set_exception(err)
        return done


def load_one(index: int, item: Any, name_indices: bool, max_pixels: Optional[int] = None) -> Decoded:
    """One input decoded, or its load error recorded (``load_image`` raises only that)."""
    try:
        with timings.stage("decode"):
            pixels, source = image_utils.load_image(
                item, index=index if name_indices else None, max_pixels=max_pixels
            )
    except ImageLoadError as err:
        return ImageResult(index=index, source=err.source, error=err), None
    return ImageResult(index=index, source=source, shape=pixels.shape), pixels


# ---------------------------------------------------------------- the model stage


def map_faces_in_batches(
    results: Iterable[ImageResult],
    forward: Callable[[List[Any]], List[Any]],
    batch_size: int,
    item: Optional[Callable[[ImageResult, DetectedFace], Any]] = None,
) -> Iterator[ImageResult]:
    """Run ``forward`` over the faces of many images, ``batch_size`` faces per call.

    ``forward`` gets the faces themselves, or ``item(result, face)`` for each when given
    (e.g. the original image with the face's box).

    Results arrive in input order; faces of consecutive images are pooled until
    ``batch_size`` of them wait, then ``forward`` runs on them in slices of at most
    ``batch_size`` and each image's ``outputs`` receive its faces' outputs, regrouped by
    position. Results are yielded in input order once their faces are done; failed
    inputs pass through untouched. At most ``batch_size`` faces (plus one image's), and
    at most ``batch_size`` inputs, wait.
    When the results' stream raises, those taken before it are finished and yielded,
    then the exception propagates.
    """
    waiting: List[ImageResult] = []
    waiting_faces = 0
    upstream = iter(results)
    while True:
        try:
            result = next(upstream)
        except StopIteration:
            break
        except Exception:  # the inputs' stream failed: finish what was taken, then re-raise
            yield from _run_forward(waiting, forward, batch_size, item)
            raise
        waiting.append(result)
        if result.error is None:
            waiting_faces += len(result.faces)
        if waiting_faces >= batch_size or len(waiting) >= batch_size:  # faceless inputs wait too
            yield from _run_forward(waiting, forward, batch_size, item)
            waiting, waiting_faces = [], 0
    yield from _run_forward(waiting, forward, batch_size, item)


Forward = Callable[[List[Any]], List[Any]]
ItemOf = Optional[Callable[[ImageResult, DetectedFace], Any]]


def _run_forward(results: List[ImageResult], forward: Forward, batch_size: int, item: ItemOf = None) -> List[ImageResult]:
    """Fill each result's ``outputs``; when a pass fails, each image of it is retried alone
    and one whose faces still fail gets a :class:`ModelFailure` (the others keep theirs)."""
    owners = [(result, k) for result in results if result.error is None for k in range(len(result.faces))]
    for result in results:
        if result.error is None:
            result.outputs = [None] * len(result.faces)
    for start in range(0, len(owners), batch_size):
        chunk = owners[start : start + batch_size]
        try:
            _forward_chunk(chunk, forward, item)
        except SYSTEMIC_ERRORS:
            raise
        except Exception:  # noqa: BLE001  (find the image that failed: each one alone)
            for result in {id(result): result for result, _ in chunk}.values():
                _forward_alone(result, [k for owner, k in chunk if owner is result], forward, item)
    return results


def _forward_chunk(chunk: List[Tuple[ImageResult, int]], forward: Forward, item: ItemOf) -> None:
    faces = [result.faces[k] for result, k in chunk]
    if item is not None:
        faces = [item(result, face) for (result, _), face in zip(chunk, faces)]
    with timings.stage("forward"):
        outputs = forward(faces)
    if len(outputs) != len(chunk):
        raise RuntimeError(f"the model stage gave {len(outputs)} outputs for {len(chunk)} faces")
    for (result, k), output in zip(chunk, outputs):
        result.outputs[k] = output


def _forward_alone(result: ImageResult, face_indices: List[int], forward: Forward, item: ItemOf) -> None:
    try:
        _forward_chunk([(result, k) for k in face_indices], forward, item)
    except SYSTEMIC_ERRORS:
        raise
    except Exception as error:  # noqa: BLE001  (an engine's failure on these faces is this input's error)
        logger.debug("the model stage failed on input %d", result.index, exc_info=True)
        failure = ModelFailure(
            f"the model failed on this input's faces: {qualified_name(error)}: {error}",
            index=result.index,
            source=result.source,
        )
        failure.__cause__ = error
        result.error = failure
        result.outputs = []


def qualified_name(error: BaseException) -> str:
    """``cv2.error``, ``ValueError``: an exception's type as its user would import it."""
    module = type(error).__module__
    name = type(error).__qualname__
    return name if module == "builtins" else f"{module}.{name}"


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
