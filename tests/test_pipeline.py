"""The shared pipeline: the model stage regroups outputs by input, stages overlap safely."""

import threading
import time
from typing import Iterator, List

import numpy as np
import pytest

from deepface.models.Detector import DetectedFace, FacialAreaRegion
from deepface.modules.pipeline import ImageResult, map_faces_in_batches, run_ahead


def result_with_faces(index: int, count: int) -> ImageResult:
    faces = [
        DetectedFace(img=np.full((2, 2, 3), 10 * index + k, dtype=np.uint8),
                     facial_area=FacialAreaRegion(x=k, y=0, w=2, h=2), confidence=1.0)
        for k in range(count)
    ]
    return ImageResult(index=index, source=f"img{index}", faces=faces)


@pytest.mark.parametrize("batch_size", [1, 2, 3, 7, 100])
def test_outputs_are_regrouped_by_input_whatever_the_batch_size(batch_size: int) -> None:
    counts = [2, 0, 5, 1, 3]
    calls: List[int] = []

    def forward(faces: List[DetectedFace]) -> List[int]:
        calls.append(len(faces))
        return [int(face.img[0, 0, 0]) for face in faces]

    failed = ImageResult(index=5, source="bad", error=ValueError("unreadable"))
    results = list(map_faces_in_batches([result_with_faces(i, n) for i, n in enumerate(counts)] + [failed],
                                        forward, batch_size))
    assert [r.index for r in results] == list(range(6))
    for index, count in enumerate(counts):
        assert results[index].outputs == [10 * index + k for k in range(count)]
    assert results[5].outputs == [] and results[5].error is not None
    assert max(calls) <= batch_size and sum(calls) == sum(counts)


def test_faces_of_several_images_share_a_forward_pass() -> None:
    calls: List[int] = []
    list(map_faces_in_batches([result_with_faces(i, 1) for i in range(6)],
                              lambda faces: calls.append(len(faces)) or [0] * len(faces), 4))
    assert calls == [4, 2]


def test_run_ahead_keeps_order_and_works_in_the_background() -> None:
    seen_threads = set()

    def produce() -> Iterator[int]:
        for k in range(20):
            seen_threads.add(threading.current_thread().name)
            yield k

    assert list(run_ahead(produce(), depth=3)) == list(range(20))
    assert seen_threads == {"deepface-run-ahead"}


def test_run_ahead_raises_the_producers_error_at_its_position() -> None:
    def produce() -> Iterator[int]:
        yield 1
        yield 2
        raise KeyError("boom")

    got = []
    with pytest.raises(KeyError, match="boom"):
        for item in run_ahead(produce(), depth=1):
            got.append(item)
    assert got == [1, 2]


def test_closing_run_ahead_early_stops_and_cleans_up_the_producer() -> None:
    closed = threading.Event()

    def produce() -> Iterator[int]:
        try:
            k = 0
            while True:
                yield k
                k += 1
        finally:
            closed.set()

    stream = run_ahead(produce(), depth=2)
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    stream.close()
    assert closed.wait(timeout=5)
    time.sleep(0.05)
    assert not any(t.name == "deepface-run-ahead" and t.is_alive() for t in threading.enumerate())
