"""TensorFlow's area resize (``tf.image.resize(..., method="area")``) for a window of the output.

mtcnn resizes the whole bordered image at every pyramid level, then P-Net (here) looks
only at the windows that meet the content: three quarters of that resize is thrown away.
TensorFlow computes each output pixel on its own from its footprint in the input, in
float32, in a fixed order. :meth:`AreaResizer.window` does the same arithmetic in the
same order for just the output rows and columns asked for, reading the uint8 pixels
through mtcnn's normalisation (exact in float32), so every value equals TensorFlow's
bit for bit. :class:`AreaResizer` checks that on probe images before it is used, and the
tests check it on many sizes and scales.

The kernel needs numba; without it (or if the check fails) the caller falls back to
TensorFlow's full resize. :func:`normalized_tensor` is that normalisation as a
TensorFlow tensor, for the whole image.
"""

import logging
import math
from typing import Any, Optional, Tuple

import numpy as np
from numpy.typing import NDArray

logger = logging.getLogger(__name__)

#: mtcnn's normalisation of every uint8 value, (x - 127.5) / 128, exact in float32.
NORMALIZED_VALUES = ((np.arange(256, dtype=np.float64) - 127.5) / 128.0).astype(np.float32)


try:
    import numba
except ImportError:  # the kernel is optional: TensorFlow's full resize is used instead
    numba = None


if numba is not None:
    @numba.njit(inline="always")
    def footprint_weight(i: int, lo: np.float32, hi: np.float32, full: np.float32) -> np.float32:
        # The share of input cell i inside [lo, hi), in float32 as TensorFlow computes it.
        fi = np.float32(i)
        fi1 = np.float32(i + 1)
        if fi < lo:
            return full if fi1 > hi else fi1 - lo
        return hi - fi if fi1 > hi else np.float32(1.0)

    # Serial on purpose: numba's default (workqueue) threading layer aborts the process
    # when parallel kernels are launched from two Python threads at once, as a web
    # server or a user's thread pool would do.
    @numba.njit(cache=True, nogil=True)
    def _area_window_kernel(img, lut, reverse, height_scale, width_scale, scale, row0, col0, out):  # pragma: no cover
        in_h, in_w = img.shape[0], img.shape[1]
        rows, cols = out.shape[0], out.shape[1]
        x_start = np.empty(cols, np.int64)
        x_end = np.empty(cols, np.int64)
        x_start_scale = np.empty(cols, np.float32)
        x_end_scale = np.empty(cols, np.float32)
        for xx in range(cols):
            lo = np.float32(col0 + xx) * width_scale
            hi = np.float32(col0 + xx + 1) * width_scale
            x_start[xx] = math.floor(lo)
            x_end[xx] = math.ceil(hi)
            x_start_scale[xx] = footprint_weight(x_start[xx], lo, hi, width_scale)
            x_end_scale[xx] = footprint_weight(x_end[xx] - 1, lo, hi, width_scale)
        red, blue = (2, 0) if reverse else (0, 2)
        for yy in range(rows):
            lo = np.float32(row0 + yy) * height_scale
            hi = np.float32(row0 + yy + 1) * height_scale
            y_start = math.floor(lo)
            y_end = math.ceil(hi)
            for xx in range(cols):
                first, stop = x_start[xx], x_end[xx]
                total0 = np.float32(0.0)
                total1 = np.float32(0.0)
                total2 = np.float32(0.0)
                for i in range(y_start, y_end):
                    pixels = img[min(in_h - 1, max(0, i))]
                    weight = x_start_scale[xx]
                    pixel = pixels[min(in_w - 1, max(0, first))]
                    sum0 = lut[pixel[red]] * weight
                    sum1 = lut[pixel[1]] * weight
                    sum2 = lut[pixel[blue]] * weight
                    if first + 1 != stop:
                        for x in range(first + 1, stop - 1):
                            pixel = pixels[min(in_w - 1, max(0, x))]
                            sum0 += lut[pixel[red]]
                            sum1 += lut[pixel[1]]
                            sum2 += lut[pixel[blue]]
                        weight = x_end_scale[xx]
                        pixel = pixels[min(in_w - 1, max(0, stop - 1))]
                        sum0 += lut[pixel[red]] * weight
                        sum1 += lut[pixel[1]] * weight
                        sum2 += lut[pixel[blue]] * weight
                    row_weight = footprint_weight(i, lo, hi, height_scale)
                    total0 += sum0 * row_weight
                    total1 += sum1 * row_weight
                    total2 += sum2 * row_weight
                out[yy, xx, 0] = total0 * scale
                out[yy, xx, 1] = total1 * scale
                out[yy, xx, 2] = total2 * scale


def normalized_tensor(tf: Any, img: NDArray[Any], reverse_channels: bool = False) -> Any:
    """One image as mtcnn normalises it, ``(x - 127.5) / 128``, as a (1, h, w, 3) float32 tensor,
    its channels reversed first if asked (BGR to RGB).

    mtcnn computes this in float64 with numpy, then TensorFlow converts the array at each
    use. Every value of the formula is exact in float32 (a multiple of 1/256 below 1), and
    the resize and crop kernels cast their input to float32 before any arithmetic, so
    the stages see the same numbers. Computed by TensorFlow from the uint8 pixels, this
    is about 20x faster on a bordered photo than the float64 array and its conversion.
    """
    pixels = tf.constant(np.ascontiguousarray(img)[None])
    if reverse_channels:
        pixels = tf.reverse(pixels, axis=[3])
    return (tf.cast(pixels, tf.float32) - 127.5) / 128.0


def resized_shape(tf: Any, shape: Tuple[int, int], scale: float) -> Tuple[int, int]:
    """The (height, width) mtcnn's ``scale_images`` asks TensorFlow for, converted as TF does."""
    size = tf.convert_to_tensor(np.asarray(shape) * scale, tf.int32).numpy()
    return int(size[0]), int(size[1])


def area_scales(in_shape: Tuple[int, int], out_shape: Tuple[int, int]) -> Tuple[np.float32, np.float32, np.float32]:
    """TensorFlow's height scale, width scale and output factor for an area resize."""
    height_scale = np.float32(in_shape[0]) / np.float32(out_shape[0])
    width_scale = np.float32(in_shape[1]) / np.float32(out_shape[1])
    factor = np.float32(1.0 / np.float64(np.float32(height_scale * width_scale)))
    return height_scale, width_scale, factor


class AreaResizer:
    """Area resize of a window of a normalised image, equal to TensorFlow's; see module doc."""

    @classmethod
    def create(cls, tf: Any) -> Optional["AreaResizer"]:
        """A resizer checked against TensorFlow on probe images, or None if unavailable."""
        if numba is None:
            logger.info("numba is not installed: mtcnn resizes whole pyramid levels with TensorFlow")
            return None
        resizer = cls()
        if not resizer.matches_tensorflow(tf):
            logger.warning("the area-resize kernel differs from TensorFlow's here: not used")
            return None
        return resizer

    def window(self, img: NDArray[np.uint8], out_shape: Tuple[int, int], rows: Tuple[int, int],
               cols: Tuple[int, int], reverse_channels: bool = False) -> NDArray[np.float32]:
        """Rows [rows) and columns [cols) of ``img`` normalised and area-resized to ``out_shape``."""
        height_scale, width_scale, factor = area_scales(img.shape[:2], out_shape)
        out = np.empty((rows[1] - rows[0], cols[1] - cols[0], 3), np.float32)
        _area_window_kernel(img, NORMALIZED_VALUES, reverse_channels, height_scale, width_scale, factor,
                     rows[0], cols[0], out)
        return out

    def matches_tensorflow(self, tf: Any) -> bool:
        """Whether windows of a few probe resizes equal TensorFlow's, bit for bit."""
        rng = np.random.default_rng(0)
        for in_shape, scale in (((61, 47), 0.6), ((203, 150), 0.3016), ((97, 131), 0.0853)):
            img = rng.integers(0, 256, (*in_shape, 3), dtype=np.uint8)
            out_shape = resized_shape(tf, in_shape, scale)
            normalized = normalized_tensor(tf, img, reverse_channels=True)
            expected = tf.image.resize(normalized, out_shape, method="area").numpy()[0]
            rows, cols = (1, out_shape[0] - 1), (0, max(1, out_shape[1] // 2))
            actual = self.window(img, out_shape, rows, cols, reverse_channels=True)
            if not np.array_equal(actual, expected[rows[0] : rows[1], cols[0] : cols[1]]):
                return False
        return True
