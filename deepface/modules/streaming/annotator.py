"""The overlay: each face's box, coloured by anti-spoofing, and a label block beside it
(``spoof``, identity, age and gender, emotion)."""

from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

import cv2
from numpy.typing import NDArray

BOX_COLOR = (0, 200, 255)
REAL_COLOR = (0, 200, 0)
SPOOF_COLOR = (0, 0, 255)
LABEL_BACKGROUND = (48, 48, 48)
TEXT_COLOR = (255, 255, 255)
FONT = cv2.FONT_HERSHEY_SIMPLEX
FONT_SCALE = 0.45
LINE_GAP = 4
LABEL_PAD = 3

#: ``(x, y, w, h)`` in pixels.
Box = Tuple[int, int, int, int]


@dataclass
class FaceFinding:
    """What is drawn for one face: its box and whatever was learnt about it."""

    box: Box
    confidence: float = 0.0
    age: Optional[int] = None
    gender: Optional[str] = None
    emotion: Optional[str] = None
    identity: Optional[str] = None
    distance: Optional[float] = None
    is_real: Optional[bool] = None  # with anti_spoofing only
    antispoof_score: Optional[float] = None

    def label_lines(self) -> List[str]:
        """The text beside the box: ``spoof`` for a fake face, identity, age and gender, emotion."""
        spoof = "spoof" if self.is_real is False else None
        summary = " ".join(str(value) for value in (self.age, self.gender) if value is not None)
        return [line for line in (spoof, self.identity, summary, self.emotion) if line]

    @property
    def color(self) -> Tuple[int, int, int]:
        """The box's colour: green real, red spoof, orange without anti-spoofing."""
        if self.is_real is None:
            return BOX_COLOR
        return REAL_COLOR if self.is_real else SPOOF_COLOR


def annotate(frame: NDArray[Any], findings: Sequence[FaceFinding]) -> NDArray[Any]:
    """Draw each face's box and label on ``frame`` (in place); ``frame``."""
    for finding in findings:
        draw_face(frame, finding)
    return frame


def draw_face(img: NDArray[Any], finding: FaceFinding) -> None:
    x, y, w, h = finding.box
    cv2.rectangle(img, (x, y), (x + w, y + h), finding.color, 2)
    lines = finding.label_lines()
    if lines:
        draw_label(img, lines, finding.box)


def draw_label(img: NDArray[Any], lines: Sequence[str], box: Box) -> None:
    """Lines of text on a dark block touching the box: above it where there is room,
    else below it, else inside its top."""
    x, y, w, h = box
    sizes = [cv2.getTextSize(line, FONT, FONT_SCALE, 1) for line in lines]
    line_height = max(size[1] + baseline for size, baseline in sizes) + LINE_GAP
    block_w = max(size[0] for size, _ in sizes) + 2 * LABEL_PAD
    block_h = line_height * len(lines) + LABEL_PAD
    top = label_top(y, h, block_h, img.shape[0])
    left = max(0, min(x, img.shape[1] - block_w))
    cv2.rectangle(img, (left, top), (left + block_w, top + block_h), LABEL_BACKGROUND, cv2.FILLED)
    for k, line in enumerate(lines):
        baseline_y = top + (k + 1) * line_height - LINE_GAP // 2
        cv2.putText(img, line, (left + LABEL_PAD, baseline_y), FONT, FONT_SCALE, TEXT_COLOR, 1, cv2.LINE_AA)


def label_top(y: int, h: int, block_h: int, image_height: int) -> int:
    if y - block_h >= 0:
        return y - block_h
    if y + h + block_h <= image_height:
        return y + h
    return max(0, y)
