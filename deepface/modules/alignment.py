"""Rotating a face upright by its eyes, touching only the region around the face."""

from typing import Any, Optional, Tuple

import cv2
import numpy as np
from numpy.typing import NDArray

from deepface.models.Detector import Point

Box = Tuple[int, int, int, int]


def align_face_region(
    img: NDArray[Any], box: Box, left_eye: Optional[Point], right_eye: Optional[Point]
) -> NDArray[Any]:
    """The face in ``box`` (x, y, w, h), rotated so that its eyes are level.

    Only a window of twice the face's size around it is rotated, not the whole image;
    the face's box is then projected into the rotated window and cut out.
    """
    x, y, w, h = box
    window, margin_x, margin_y = surrounding_window(img, box)
    rotated, angle = rotate_to_level_eyes(window, left_eye, right_eye)
    x1, y1, x2, y2 = project_box(
        (margin_x, margin_y, margin_x + w, margin_y + h), angle, window.shape[:2]
    )
    return rotated[y1:y2, x1:x2]


def surrounding_window(img: NDArray[Any], box: Box) -> Tuple[NDArray[Any], int, int]:
    """The box grown by half its width and height on each side, black where off the image.

    Returns the window and the box's offset inside it.
    """
    x, y, w, h = box
    margin_x, margin_y = int(0.5 * w), int(0.5 * h)
    x1, y1 = x - margin_x, y - margin_y
    x2, y2 = x + w + margin_x, y + h + margin_y
    img_h, img_w = img.shape[:2]
    if x1 >= 0 and y1 >= 0 and x2 <= img_w and y2 <= img_h:
        return img[y1:y2, x1:x2], margin_x, margin_y

    window = np.zeros((h + 2 * margin_y, w + 2 * margin_x) + img.shape[2:], dtype=img.dtype)
    inside = img[max(0, y1) : min(img_h, y2), max(0, x1) : min(img_w, x2)]
    top, left = max(0, margin_y - y), max(0, margin_x - x)
    window[top : top + inside.shape[0], left : left + inside.shape[1]] = inside
    return window, margin_x, margin_y


def eye_angle(left_eye: Point, right_eye: Point) -> float:
    """The eye line's angle in degrees, as ``cv2.getRotationMatrix2D`` takes it."""
    return float(np.degrees(np.arctan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0])))


def rotate_to_level_eyes(
    img: NDArray[Any], left_eye: Optional[Point], right_eye: Optional[Point]
) -> Tuple[NDArray[Any], float]:
    """Rotate ``img`` about its centre so the eyes are level; the angle used (0 if none)."""
    if left_eye is None or right_eye is None or img.shape[0] == 0 or img.shape[1] == 0:
        return img, 0.0
    angle = eye_angle(left_eye, right_eye)
    h, w = img.shape[:2]
    matrix = cv2.getRotationMatrix2D((w // 2, h // 2), angle, 1.0)
    rotated = cv2.warpAffine(
        img, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0)
    )
    return rotated, angle


def project_box(corners: Box, angle: float, size: Tuple[int, int]) -> Box:
    """Where a box (x1, y1, x2, y2) lands after rotating an image of ``size`` (h, w).

    The box keeps its size; its centre turns with the image about the image's centre.
    The result is clipped to the image.
    """
    sign = 1 if angle >= 0 else -1
    turn = abs(angle) % 360
    if turn == 0:
        return corners
    theta = turn * np.pi / 180
    height, width = size
    x1, y1, x2, y2 = corners
    # the box's centre relative to the image's centre
    cx = (x1 + x2) / 2 - width / 2
    cy = (y1 + y2) / 2 - height / 2
    turned_x = cx * np.cos(theta) + cy * sign * np.sin(theta) + width / 2
    turned_y = -cx * sign * np.sin(theta) + cy * np.cos(theta) + height / 2
    half_w, half_h = (x2 - x1) / 2, (y2 - y1) / 2
    return (
        max(int(turned_x - half_w), 0),
        max(int(turned_y - half_h), 0),
        min(int(turned_x + half_w), width),
        min(int(turned_y + half_h), height),
    )


