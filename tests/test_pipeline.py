"""The shared pipeline: the model stage regroups outputs by input, whatever the batch size."""

from typing import List

import numpy as np
import pytest

from deepface.models.Detector import DetectedFace, FacialAreaRegion
from deepface.modules.pipeline import ImageResult, map_faces_in_batches


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


def test_faceless_inputs_are_yielded_without_waiting_for_faces() -> None:
    taken: List[int] = []

    def faceless(count: int):
        for index in range(count):
            taken.append(index)
            yield result_with_faces(index, 0)

    stream = map_faces_in_batches(faceless(100), lambda faces: [0] * len(faces), 4)
    first = next(stream)
    assert first.index == 0 and len(taken) <= 4, f"{len(taken)} inputs held before the first came out"
