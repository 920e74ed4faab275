"""MTCNN with black-only P-Net windows skipped gives mtcnn's own answers."""

from typing import List

import numpy as np
import pytest

from deepface.models.face_detection.mtcnn_windows import (
    PNET_DEFAULTS,
    STRIDE,
    WINDOW,
    ContentBox,
    content_box,
    normalized_tensor,
    window_span,
)
from deepface.modules.detection import frame_image
from tests.conftest import assert_same_regions, synthetic_images


def test_content_box_finds_the_non_black_pixels() -> None:
    img = np.zeros((20, 30, 3), np.uint8)
    assert content_box(img) is None
    img[5:9, 7, 2] = 1
    img[12, 20] = 255
    assert content_box(img) == ContentBox(top=5, bottom=13, left=7, right=21)


@pytest.mark.parametrize("start, stop, size", [(0, 5, 40), (17, 23, 100), (30, 31, 45), (3, 97, 98)])
def test_window_span_covers_every_window_that_meets_the_content(start, stop, size) -> None:
    lo, hi = window_span(start, stop, size)
    assert lo % STRIDE == 0 and (hi == size or (hi - lo) % 2 == 0)
    for cell in range((size - WINDOW) // STRIDE + 1):
        first, last = cell * STRIDE, cell * STRIDE + WINDOW
        meets = first < stop + 2 and last > start - 2
        if meets:
            assert lo <= first and last <= hi, f"window {first}-{last} not in crop {lo}-{hi}"


@pytest.fixture(scope="module")
def client():
    pytest.importorskip("mtcnn")
    from deepface.models.face_detection.MtCnn import MtCnnClient

    return MtCnnClient()


def test_a_black_window_scores_far_below_pnets_threshold(client) -> None:
    assert client.windowed is not None, "the skip was disabled: black windows score too high"
    assert client.windowed.black_score < PNET_DEFAULTS["threshold_pnet"] - 0.1


def test_skipping_black_windows_gives_mtcnns_answers(client, mixed_batch: List[np.ndarray]) -> None:
    from deepface.models.face_detection.MtCnn import _to_region

    imgs = [frame_image(img, 0.5).pixels for img in mixed_batch] + [
        mixed_batch[0],  # no border at all
        frame_image(mixed_batch[1], 0.2).pixels,
        np.zeros((200, 300, 3), np.uint8),  # all black
        frame_image(synthetic_images()[1], 0.5).pixels,
    ]
    found_any = False
    for index, img in enumerate(imgs):
        expected = [_to_region(d) for d in client.model.detect_faces(img[:, :, ::-1]) or []]
        actual = client.detect_faces(img)
        assert_same_regions(expected, actual, f"image {index}")
        found_any |= bool(expected)
    assert found_any


def test_skipping_black_windows_gives_mtcnns_exact_numbers(client, mixed_batch: List[np.ndarray]) -> None:
    """Not just the same regions: the same floats, box by box (confidence, keypoints)."""
    for index, img in enumerate(mixed_batch):
        bgr = frame_image(img, 0.5).pixels
        expected = client.model.detect_faces(bgr[:, :, ::-1]) or []
        assert client.windowed.detect_faces(bgr) == expected, f"image {index}"


@pytest.mark.parametrize("stage_index, shapes", [
    (0, [(1, 12, 12, 3), (1, 57, 33, 3), (1, 210, 160, 3)]),
    (1, [(1, 24, 24, 3), (64, 24, 24, 3)]),
    (2, [(1, 48, 48, 3), (13, 48, 48, 3)]),
])
def test_networks_run_layer_by_layer_give_kerass_exact_outputs(client, stage_index, shapes) -> None:
    from deepface.models.face_detection.mtcnn_networks import LayerChain, with_layer_chain

    tf = pytest.importorskip("tensorflow")
    stage = client.model.stages[stage_index]
    lean = with_layer_chain(stage)
    assert isinstance(lean.model, LayerChain), "the layer-by-layer path was not taken"
    assert not isinstance(stage.model, LayerChain), "mtcnn's own stage was modified"
    rng = np.random.default_rng(stage_index)
    for shape in shapes:
        x = tf.constant(rng.uniform(-1, 1, shape).astype(np.float32))
        for expected, actual in zip(stage.model(x), lean.model(x), strict=True):
            assert np.array_equal(expected.numpy(), actual.numpy()), f"stage {stage_index}, input {shape}"


def test_windowed_resize_gives_the_same_numbers_as_tensorflows_whole_levels(client, face_photos) -> None:
    from deepface.models.face_detection.mtcnn_windows import WindowedMtcnn

    assert client.windowed.resizer is not None, "numba's windowed resize is not in use"
    whole_levels = WindowedMtcnn(client.model, window_resize=False)
    for name in ["couple.jpg", "img3.jpg"]:
        bgr = frame_image(face_photos[name], 0.5).pixels  # full size, as deepface frames it
        found = client.windowed.detect_faces(bgr)
        assert found and found == whole_levels.detect_faces(bgr), name


def test_normalized_tensor_holds_mtcnns_values_and_shape_info() -> None:
    tf = pytest.importorskip("tensorflow")
    from mtcnn.utils.images import standarize_batch

    bgr = np.random.default_rng(3).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    rgb = bgr[:, :, ::-1]
    expected, shapes, pad_param = standarize_batch([rgb], normalize=True)
    actual = normalized_tensor(tf, bgr, reverse_channels=True).numpy()
    assert actual.dtype == np.float32 and actual.shape == expected.shape
    assert np.array_equal(actual.astype(np.float64), expected)
    assert np.array_equal(shapes, np.asarray([rgb.shape])) and not pad_param.any()


@pytest.mark.parametrize("count", [0, 1, 7, 300, 1500])
@pytest.mark.parametrize("initial_sort", [True, False])
def test_blocked_nms_keeps_what_mtcnns_nms_keeps(count: int, initial_sort: bool) -> None:
    pytest.importorskip("mtcnn")
    from mtcnn.utils.bboxes import smart_nms_from_bboxes

    from deepface.models.face_detection.mtcnn_windows import overlap_nms

    rng = np.random.default_rng(count)
    corner = rng.uniform(0, 400, (count, 2))
    size = rng.uniform(0, 60, (count, 2))
    size[: count // 10] = 0  # degenerate boxes: 0/0 overlaps
    scores = rng.choice([0.7, 0.8, 0.9, 0.95], count)  # ties in score order
    boxes = np.column_stack([np.zeros(count), corner, corner + size, scores])
    if count > 5:
        boxes[5] = boxes[4]  # an exact duplicate
    expected = smart_nms_from_bboxes(boxes.copy(), threshold=0.5, method="union", initial_sort=initial_sort)
    np.testing.assert_array_equal(overlap_nms(boxes.copy(), 0.5, initial_sort=initial_sort, block=64), expected)
