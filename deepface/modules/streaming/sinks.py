"""Where annotated frames go: a window (or none, headless), a progress bar, and a video file
written whole or not at all."""

import os
import sys
import tempfile
from contextlib import contextmanager
from typing import Any, Iterator, Optional, Tuple

import cv2
from numpy.typing import NDArray

from deepface.commons.exceptions import DisplayUnavailable, VideoOutputError
from deepface.commons.logger import get_logger
from deepface.modules.streaming.sources import SourceInfo

logger = get_logger(__name__)

#: The codec of the annotated video, as deepface writes it.
FOURCC = "mp4v"
WINDOW_NAME = "deepface"
#: Keys that close the window: q and Esc.
QUIT_KEYS = (ord("q"), 27)


# ---------------------------------------------------------------- the window


class Display:
    """The window, or nothing when headless (then ``show`` never blocks)."""

    def __init__(self, enabled: bool, required: bool = False) -> None:
        self.enabled = enabled
        self.required = required

    @classmethod
    def resolve(cls, show: Optional[bool]) -> "Display":
        """``show=True``: a window, or :class:`DisplayUnavailable`; ``False``: none;
        ``None``: a window where OpenCV has a GUI backend and there is a display."""
        if show is False:
            return cls(False)
        problem = why_no_window()
        if show and problem:
            raise DisplayUnavailable(f"show=True, but {problem}")
        if problem:
            logger.info("no window: %s", problem)
        return cls(not problem, required=bool(show))

    def show(self, frame: NDArray[Any]) -> bool:
        """Show ``frame``; ``False`` when the viewer pressed q or Esc."""
        if not self.enabled:
            return True
        try:
            cv2.imshow(WINDOW_NAME, frame)
            key = cv2.waitKey(1) & 0xFF
        except cv2.error as error:
            if self.required:
                raise DisplayUnavailable(f"show=True, but OpenCV cannot show a window: {error}") from error
            logger.info("no window (OpenCV cannot show one): %s", error)
            self.enabled = False
            return True
        return key not in QUIT_KEYS

    def __enter__(self) -> "Display":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            try:
                cv2.destroyWindow(WINDOW_NAME)
            except cv2.error:
                pass


def why_no_window() -> Optional[str]:
    """Why no window can be shown here (``None`` when one can)."""
    if not opencv_has_gui():
        return "this OpenCV build has no GUI backend (a -headless package; pip install opencv-contrib-python)"
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "there is no display (DISPLAY is not set)"
    return None


def opencv_has_gui() -> bool:
    """Whether OpenCV was built with a GUI backend (``GUI: NONE`` in its build information)."""
    for line in cv2.getBuildInformation().splitlines():
        name, _, value = line.strip().partition(":")
        if name == "GUI":
            return value.strip().upper() != "NONE"
    return True  # not reported: let cv2.imshow tell


# ---------------------------------------------------------------- progress and the video file


@contextmanager
def progress_bar(info: SourceInfo, enabled: Optional[bool]) -> Iterator[Any]:
    """A tqdm bar on stderr; by default for files only (a camera has no end)."""
    from tqdm import tqdm

    show = (not info.is_camera) if enabled is None else enabled
    with tqdm(total=info.frame_count, unit="frame", file=sys.stderr, disable=not show, desc="stream") as bar:
        yield bar


class VideoOutput:
    """Annotated frames into a temporary file beside ``path`` (same name's extension, so
    OpenCV picks the same container), renamed over ``path`` when the run ends; removed,
    ``path`` untouched, when it breaks off. ``path=None`` writes nothing."""

    def __init__(self, path: Optional[str], fps: float) -> None:
        self.path = path
        self.fps = fps
        self.temp: Optional[str] = None
        self.size: Optional[Tuple[int, int]] = None
        self._writer: Any = None

    def open_for(self, frame: NDArray[Any]) -> None:
        """Open the writer for frames like ``frame`` (once; nothing without a path)."""
        if self.path is None or self._writer is not None:
            return
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)  # as deepface does
        stem, extension = os.path.splitext(os.path.basename(self.path))
        handle, self.temp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".part{extension}", dir=folder)
        os.close(handle)
        self.size = (frame.shape[1], frame.shape[0])
        self._writer = cv2.VideoWriter(self.temp, cv2.VideoWriter_fourcc(*FOURCC), self.fps, self.size)
        if not self._writer.isOpened():
            raise VideoOutputError(
                f"OpenCV cannot write {FOURCC} video to {self.path} (a name ending in .mp4 works)"
            )

    def write(self, frame: NDArray[Any]) -> bool:
        """Append ``frame`` (resized to the video's size if it differs); whether written."""
        if self.path is None:
            return False
        self.open_for(frame)
        if (frame.shape[1], frame.shape[0]) != self.size:
            frame = cv2.resize(frame, self.size)
        self._writer.write(frame)
        return True

    def commit(self) -> None:
        if self._writer is None:
            return
        self._writer.release()
        with open(self.temp, "rb") as handle:  # type: ignore[arg-type]
            os.fsync(handle.fileno())
        os.replace(self.temp, self.path)  # type: ignore[arg-type]
        self.temp = None

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.release()
        if self.temp is not None and os.path.exists(self.temp):
            os.remove(self.temp)
        self.temp = None


@contextmanager
def video_output(path: Optional[str], fps: float) -> Iterator[VideoOutput]:
    output = VideoOutput(path, fps)
    try:
        yield output
    except BaseException:
        output.abort()
        raise
    output.commit()
