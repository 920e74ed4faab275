"""Every kind of image input loads to the same BGR array; bad inputs say what and where."""

import base64
import io
from pathlib import Path

import cv2
import numpy as np
import pytest

from deepface.commons import image_utils
from deepface.modules.exceptions import ImageLoadError, ImgNotFound


@pytest.fixture(scope="module")
def png_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(1)
    path = tmp_path_factory.mktemp("img") / "sample.png"
    cv2.imwrite(str(path), rng.integers(0, 255, (40, 60, 3), dtype=np.uint8))
    return path


def test_every_input_kind_gives_the_same_pixels(png_file: Path) -> None:
    expected = cv2.imread(str(png_file))
    data = png_file.read_bytes()
    inputs = {
        "str path": str(png_file),
        "Path": png_file,
        "bytes": data,
        "file object": io.BytesIO(data),
        "data URI": "data:image/png;base64," + base64.b64encode(data).decode(),
        "array": expected,
    }
    for kind, item in inputs.items():
        pixels, _ = image_utils.load_image(item)
        np.testing.assert_array_equal(pixels, expected, err_msg=kind)


def test_opened_binary_file_and_non_ascii_path(png_file: Path, tmp_path: Path) -> None:
    expected = cv2.imread(str(png_file))
    unicode_path = tmp_path / "visage-été.png"
    unicode_path.write_bytes(png_file.read_bytes())
    with open(png_file, "rb") as handle:
        np.testing.assert_array_equal(image_utils.load_image(handle)[0], expected)
    np.testing.assert_array_equal(image_utils.load_image(str(unicode_path))[0], expected)


@pytest.mark.parametrize("shape", [(30, 40), (30, 40, 1), (30, 40, 4)])
def test_grayscale_and_bgra_arrays_become_bgr(shape) -> None:
    pixels, name = image_utils.load_image(np.full(shape, 7, dtype=np.uint8))
    assert pixels.shape == (30, 40, 3) and name == "numpy array"
    assert (pixels == 7).all()


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ("/no/such/image.jpg", "/no/such/image.jpg"),
        (b"not an image", "bytes"),
        (io.StringIO("text"), "binary mode"),
        (12345, "int"),
        (np.zeros((4, 4, 2), dtype=np.uint8), "shape"),
        ("data:image/png;base64", "comma"),
    ],
)
def test_bad_inputs_raise_a_typed_error_naming_the_input(bad, fragment: str) -> None:
    with pytest.raises(ImageLoadError) as caught:
        image_utils.load_image(bad, index=3)
    assert isinstance(caught.value, (ImgNotFound, ValueError))
    assert caught.value.index == 3
    assert "input 3" in str(caught.value) and fragment in str(caught.value)


def test_batch_detection_follows_the_input_type() -> None:
    frames = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    assert image_utils.is_batch_input([frames[0]]) and image_utils.is_batch_input((frames[0],))
    assert image_utils.is_batch_input(frames)
    assert not image_utils.is_batch_input(frames[0]) and not image_utils.is_batch_input("a.jpg")
    assert len(image_utils.split_batch(frames)) == 2


def test_list_images_walks_folders_in_sorted_order(tmp_path: Path, png_file: Path) -> None:
    for name in ["b.png", "a.jpg", "notes.txt", "sub/c.jpeg"]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(png_file.read_bytes())
    found = [Path(p).relative_to(tmp_path).as_posix() for p in image_utils.expand_image_paths([str(tmp_path)])]
    assert found == ["a.jpg", "b.png", "sub/c.jpeg"]


def test_a_stream_without_seek_is_read_from_where_it_stands(png_file: Path) -> None:
    stream = io.BytesIO(png_file.read_bytes())
    stream.seek = None  # e.g. a socket-like object whose seek is missing
    pixels, _ = image_utils.load_image(stream)
    assert pixels.shape[2] == 3
    with pytest.raises(ImageLoadError, match="Failed to decode image"):
        image_utils.load_image(io.BytesIO(b"numpy\nopencv-python\n"))
