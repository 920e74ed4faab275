"""The windowed area resize gives TensorFlow's floats, bit for bit."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("numba")

from deepface.models.face_detection.area_resize import AreaResizer, resized_shape  # noqa: E402


@pytest.fixture(scope="module")
def resizer() -> AreaResizer:
    created = AreaResizer.create(tf)
    assert created is not None, "the kernel failed its own check against TensorFlow"
    return created


def tensorflow_level(img: np.ndarray, out_shape, reverse_channels: bool) -> np.ndarray:
    """What mtcnn gets: TensorFlow's area resize of the normalised image."""
    pixels = img[:, :, ::-1] if reverse_channels else img
    normalized = (np.ascontiguousarray(pixels, dtype=np.float64) - 127.5) / 128.0
    return tf.image.resize(normalized[None], out_shape, method="area").numpy()[0]


CASES = [  # (height, width, scale)
    (12, 12, 0.6), (13, 29, 0.6), (480, 640, 0.6), (960, 1280, 0.6 * 0.709**3),
    (301, 777, 0.6 * 0.709**5), (1001, 203, 0.6 * 0.709**9), (97, 1500, 0.02), (250, 250, 0.5),
]


@pytest.mark.parametrize("height, width, scale", CASES)
@pytest.mark.parametrize("reverse_channels", [True, False])
def test_whole_level_equals_tensorflows(resizer, height, width, scale, reverse_channels) -> None:
    img = np.random.default_rng(height * width).integers(0, 256, (height, width, 3), dtype=np.uint8)
    out_shape = resized_shape(tf, (height, width), scale)
    expected = tensorflow_level(img, out_shape, reverse_channels)
    actual = resizer.window(img, out_shape, (0, out_shape[0]), (0, out_shape[1]), reverse_channels)
    assert actual.shape == expected.shape
    assert np.array_equal(actual, expected)


@pytest.mark.parametrize("height, width, scale", CASES[2:])
def test_any_window_equals_the_same_part_of_tensorflows_level(resizer, height, width, scale) -> None:
    rng = np.random.default_rng(7)
    img = np.zeros((height, width, 3), np.uint8)  # a black frame around content, as deepface's
    img[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = rng.integers(
        0, 256, (3 * height // 4 - height // 4, 3 * width // 4 - width // 4, 3), dtype=np.uint8
    )
    out_shape = resized_shape(tf, (height, width), scale)
    expected = tensorflow_level(img, out_shape, True)
    for _ in range(5):
        top, left = rng.integers(0, out_shape[0]), rng.integers(0, out_shape[1])
        rows = (int(top), int(rng.integers(top + 1, out_shape[0] + 1)))
        cols = (int(left), int(rng.integers(left + 1, out_shape[1] + 1)))
        actual = resizer.window(img, out_shape, rows, cols, reverse_channels=True)
        assert np.array_equal(actual, expected[rows[0] : rows[1], cols[0] : cols[1]]), (rows, cols)


def test_strided_views_are_read_like_arrays(resizer) -> None:
    img = np.random.default_rng(1).integers(0, 256, (200, 300, 3), dtype=np.uint8)
    view = img[::2, 10:250]
    out_shape = resized_shape(tf, view.shape[:2], 0.3)
    expected = resizer.window(np.ascontiguousarray(view), out_shape, (0, out_shape[0]), (0, out_shape[1]))
    actual = resizer.window(view, out_shape, (0, out_shape[0]), (0, out_shape[1]))
    assert np.array_equal(actual, expected)


@pytest.mark.parametrize("shape, scale", [((480, 640), 0.6), ((1280, 960), 0.0731), ((33, 17), 0.3)])
def test_level_shape_is_the_one_tensorflow_makes(shape, scale) -> None:
    level = tf.image.resize(tf.zeros((1, *shape, 3)), np.asarray(shape) * scale, method="area")
    assert resized_shape(tf, shape, scale) == tuple(level.shape[1:3])


def test_threads_can_resize_at_once(resizer) -> None:
    """A web server calls detectors from many threads: the kernel must not abort or mix up."""
    from concurrent.futures import ThreadPoolExecutor

    img = np.random.default_rng(5).integers(0, 256, (400, 300, 3), dtype=np.uint8)
    out_shape = resized_shape(tf, img.shape[:2], 0.6)
    expected = resizer.window(img, out_shape, (0, out_shape[0]), (0, out_shape[1]))
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: resizer.window(img, out_shape, (0, out_shape[0]), (0, out_shape[1])), range(16)))
    assert all(np.array_equal(r, expected) for r in results)
