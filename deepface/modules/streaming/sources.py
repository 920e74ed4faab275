"""Where frames come from: a camera, a stream URL or a video file, opened with OpenCV and
read ahead by a background thread, handed on in chunks."""

import math
import os
import queue
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, List, Optional, Tuple

import cv2
from numpy.typing import NDArray

from deepface.commons.exceptions import VideoSourceError
from deepface.commons.logger import get_logger
from deepface.modules.streaming.options import Source

logger = get_logger(__name__)

#: The frame rate written when the source reports none (cameras often report 0).
FALLBACK_FPS = 30.0


@dataclass(frozen=True)
class SourceInfo:
    """An opened source: its name, frame rate, frame count (files) and kind."""

    name: str
    fps: float
    frame_count: Optional[int]
    is_camera: bool


def open_source(source: Source) -> Tuple[Any, SourceInfo]:
    """An opened ``cv2.VideoCapture`` and what it is.

    ``source`` is a camera index (an int, or a string of digits naming no file), a stream
    URL (``rtsp://...``) or a video file.
    """
    index = camera_index(source)
    if index is not None:
        capture, name = cv2.VideoCapture(index), f"camera {index}"
    else:
        name = os.fspath(source)
        if "://" not in name and not os.path.isfile(name):
            raise VideoSourceError(f"no such video file: {name}")
        capture = cv2.VideoCapture(name)
    if not capture.isOpened():
        capture.release()
        raise VideoSourceError(f"cannot open video source {name}")
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    info = SourceInfo(
        name=name,
        fps=usable_fps(capture.get(cv2.CAP_PROP_FPS)),
        frame_count=count if index is None and count > 0 else None,
        is_camera=index is not None,
    )
    return capture, info


def camera_index(source: Source) -> Optional[int]:
    if isinstance(source, bool):
        raise VideoSourceError(f"source must be a camera index, a URL or a video file, not {source!r}")
    if isinstance(source, int):
        return source
    text = os.fspath(source)
    if text.isdigit() and not os.path.exists(text):
        return int(text)
    return None


def usable_fps(reported: float) -> float:
    if reported and math.isfinite(reported) and reported > 0:
        return float(reported)
    logger.info("the source reports no frame rate; writing %s fps", FALLBACK_FPS)
    return FALLBACK_FPS


_END = object()


@dataclass
class _ReadFailure:
    error: BaseException


class FrameReader:
    """Reads frames in a background thread, at most ``lookahead`` ahead of the consumer
    (``cv2.VideoCapture.read`` releases the GIL: decoding overlaps the analysis)."""

    def __init__(self, capture: Any, lookahead: int) -> None:
        self._capture = capture
        self._queue: "queue.Queue[Any]" = queue.Queue(maxsize=max(1, lookahead))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="deepface-stream-reader", daemon=True)

    def __enter__(self) -> "FrameReader":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def __iter__(self) -> Iterator[NDArray[Any]]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _ReadFailure):
                raise item.error
            yield item

    def _read(self) -> None:
        try:
            while not self._stop.is_set():
                has_frame, frame = self._capture.read()
                if not has_frame:
                    break
                self._put(frame)
        except BaseException as error:  # noqa: BLE001  (handed to the consumer, raised there)
            self._put(_ReadFailure(error))
        self._put(_END)

    def _put(self, item: Any) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue


def frame_chunks(frames: Iterable[NDArray[Any]], size: int) -> Iterator[List[Tuple[int, NDArray[Any]]]]:
    """``(index, frame)`` pairs in lists of ``size`` (the last may be shorter)."""
    chunk: List[Tuple[int, NDArray[Any]]] = []
    for index, frame in enumerate(frames):
        chunk.append((index, frame))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
