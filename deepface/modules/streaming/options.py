"""What one ``stream`` run is asked to do (:class:`StreamOptions`) and what it did
(:class:`StreamStats`)."""

import os
from dataclasses import dataclass
from typing import Optional, Tuple, Union

from deepface.modules.verification import find_threshold

#: The attributes shown for each face (deepface's stream shows these three).
STREAM_ACTIONS = ("age", "gender", "emotion")
#: Analysed frames per batch (and faces per forward pass at most). Frames wait for their
#: batch before they are drawn, so a live camera lags by about this many frames times the
#: stride: use a smaller value (1 to 4) for a live view.
DEFAULT_STREAM_BATCH_SIZE = 8
#: The file format of the datastore kept in ``db_path`` (the one ``find`` keeps there).
DATASTORE_FORMAT = "npz"

#: A camera index, a stream URL or a video file.
Source = Union[int, str, "os.PathLike[str]"]


@dataclass(frozen=True)
class StreamOptions:
    """The parameters of one ``stream`` call, validated once."""

    db_path: str = ""
    model_name: str = "VGG-Face"
    detector_backend: str = "opencv"
    distance_metric: str = "cosine"
    enable_face_analysis: bool = True
    source: Source = 0
    time_threshold: int = 5
    frame_threshold: int = 5
    anti_spoofing: bool = False
    output_path: Optional[str] = None
    debug: bool = False
    frame_stride: int = 1
    batch_size: int = DEFAULT_STREAM_BATCH_SIZE
    show: Optional[bool] = None
    progress: Optional[bool] = None

    def __post_init__(self) -> None:
        for name in ("frame_stride", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        # deepface's own rule: at least 1 (they shape only its freeze display)
        object.__setattr__(self, "time_threshold", max(self.time_threshold, 1))
        object.__setattr__(self, "frame_threshold", max(self.frame_threshold, 1))
        if self.db_path:
            find_threshold(self.model_name, self.distance_metric)  # ValueError for an unknown pair

    @property
    def frames_per_chunk(self) -> int:
        """Frames read per batch: ``batch_size`` analysed frames and those strided over."""
        return self.batch_size * self.frame_stride


@dataclass
class StreamStats:
    """What a run did (``run_stream``'s answer; ``stream`` returns ``None`` as deepface does)."""

    source: str = ""
    fps: float = 0.0
    frame_size: Tuple[int, int] = (0, 0)
    frames_read: int = 0
    frames_analysed: int = 0
    frames_written: int = 0
    batches: int = 0
    faces_found: int = 0
    faces_identified: int = 0
    shown: bool = False
    stopped_by_user: bool = False
    output_path: Optional[str] = None
    seconds: float = 0.0
