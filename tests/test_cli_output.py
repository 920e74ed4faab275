"""``deepface extract-faces`` never loses output: start-up failures and broken-off runs leave
an existing target as it was, crop failures are recorded, ``--resume`` appends, and the
exit status says whether every input worked."""

import json
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import cv2
import pytest

from deepface import DeepFace
from deepface.cli import extract as extract_command
from deepface.cli import UsageError, main, read_recorded_lines
from tests.conftest import resize_to_width, synthetic_images

OLD_OUTPUT = b'{"path": "earlier.jpg", "faces": [], "error": null}\n'
QUIET = ["--detector-backend", "opencv", "--no-progress"]


@pytest.fixture
def faceless_folder(tmp_path: Path) -> Path:
    """Two small images without faces: each input fails with FaceNotDetected."""
    folder = tmp_path / "faceless"
    folder.mkdir()
    for name, image in zip(["a_ramp.png", "b_grey.png"], [synthetic_images()[0], synthetic_images()[3]]):
        cv2.imwrite(str(folder / name), image)
    return folder


@pytest.fixture
def face_folder(tmp_path: Path, face_photos: Dict[str, Any]) -> Path:
    """Two photos of one face each (skips without ../shared/faces)."""
    folder = tmp_path / "faces"
    folder.mkdir()
    cv2.imwrite(str(folder / "a_face.jpg"), resize_to_width(face_photos["img1.jpg"], 400))
    cv2.imwrite(str(folder / "b_face.jpg"), resize_to_width(face_photos["img2.jpg"], 400))
    return folder


@pytest.fixture
def old_output(tmp_path: Path) -> Path:
    """An earlier run's JSONL output."""
    output = tmp_path / "out" / "faces.jsonl"
    output.parent.mkdir()
    output.write_bytes(OLD_OUTPUT)
    return output


@pytest.fixture
def interrupt_after_first(monkeypatch: pytest.MonkeyPatch) -> Callable[[BaseException], None]:
    """Make the command's detection stream raise ``error`` after its first input."""

    def install(error: BaseException) -> None:
        real = extract_command.iter_extract_faces

        def breaking(*args: Any, **kwargs: Any) -> Iterator[Any]:
            stream = real(*args, **kwargs)
            yield next(stream)
            stream.close()
            raise error

        monkeypatch.setattr(extract_command, "iter_extract_faces", breaking)

    return install


def read_lines(path: Path) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def leftovers(folder: Path) -> List[str]:
    """Temporary files left beside an output."""
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


# ---------------------------------------------------------------- start-up failures


def raise_missing_weights(*args: Any, **kwargs: Any) -> None:
    raise FileNotFoundError("weights file yunet.onnx is missing")


@pytest.mark.parametrize(
    "bad, expected, weights_missing",
    [
        (["--detector-backend", "no_such_detector"], "choose one of", False),
        (["--detector-option", "no_such_keyword=1"], "no_such_keyword", False),
        (["--detector-backend", "yunet"], "weights file yunet.onnx is missing", True),
    ],
    ids=["unknown-detector", "bad-detector-option", "missing-weights"],
)
@pytest.mark.parametrize("resume", [False, True], ids=["replace", "resume"])
def test_start_up_failure_touches_no_output(
    faceless_folder: Path, old_output: Path, tmp_path: Path, bad: List[str], expected: str,
    weights_missing: bool, resume: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
) -> None:
    if weights_missing:
        monkeypatch.setattr(DeepFace, "build_model", raise_missing_weights)
    old_output.write_bytes(OLD_OUTPUT + b'{"path": "torn')  # --resume would cut the torn line
    crops = tmp_path / "crops"
    crops.mkdir()
    (crops / "000000_old_face0.jpg").write_bytes(b"an earlier crop")
    flags = ["--resume"] if resume else ["--overwrite"]

    code = main(["extract-faces", str(faceless_folder), "--no-progress", *bad, *flags,
                 "--output", str(old_output), "--crops", str(crops)])

    assert code == 2
    err = capsys.readouterr().err
    assert expected in err and "left as it was" in err
    assert old_output.read_bytes() == OLD_OUTPUT + b'{"path": "torn'
    assert [p.name for p in crops.iterdir()] == ["000000_old_face0.jpg"]
    assert leftovers(old_output.parent) == []


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--output", "{tmp}/no/such/folder/faces.jsonl"], "no such folder for --output"),
        (["--output", "{tmp}/faces.jsonl", "--crops", "{tmp}/no/such/crops"], "no such folder for --crops"),
        (["--resume"], "--resume needs --output FILE"),
        (["--output", "{tmp}/faces.jsonl", "--overwrite"], "--overwrite applies to --crops"),
        (["--output", "{tmp}/faces.jsonl", "--crops", "{tmp}/c", "--overwrite", "--resume"], "contradict"),
    ],
    ids=["output-folder", "crops-folder", "resume-stdout", "overwrite-alone", "overwrite-resume"],
)
def test_usage_errors_write_nothing(
    faceless_folder: Path, tmp_path: Path, flags: List[str], expected: str, capsys: pytest.CaptureFixture
) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    flags = [flag.replace("{tmp}", str(tmp_path)) for flag in flags]

    assert main(["extract-faces", str(faceless_folder), *QUIET, *flags]) == 2

    captured = capsys.readouterr()
    assert expected in captured.err and captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# ---------------------------------------------------------------- broken-off runs


@pytest.mark.parametrize(
    "error, status, expected",
    [(KeyboardInterrupt(), 130, "interrupted"), (RuntimeError("disk on fire"), 2, "RuntimeError: disk on fire")],
    ids=["ctrl-c", "exception"],
)
def test_broken_off_run_leaves_the_target_as_it_was(
    faceless_folder: Path, old_output: Path, interrupt_after_first: Callable[[BaseException], None],
    error: BaseException, status: int, expected: str, capsys: pytest.CaptureFixture,
) -> None:
    interrupt_after_first(error)

    code = main(["extract-faces", str(faceless_folder), *QUIET, "--output", str(old_output)])

    assert code == status
    err = capsys.readouterr().err
    assert expected in err and f"{old_output} left as it was" in err
    assert old_output.read_bytes() == OLD_OUTPUT
    assert [p.name for p in old_output.parent.iterdir()] == ["faces.jsonl"]  # no temporary left


def test_stdout_streams_line_by_line(faceless_folder: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["extract-faces", str(faceless_folder), *QUIET]) == 1

    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [Path(line["path"]).name for line in lines] == ["a_ramp.png", "b_grey.png"]
    assert "2 of 2 inputs failed" in captured.err


# ---------------------------------------------------------------- exit status and crops


def test_exit_status_counts_failed_inputs(
    face_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    output = tmp_path / "faces.jsonl"

    assert main(["extract-faces", str(face_folder), *QUIET, "--output", str(output)]) == 0
    assert "0 failed" in capsys.readouterr().err
    assert all(line["error"] is None and line["faces"] for line in read_lines(output))

    cv2.imwrite(str(face_folder / "c_blank.png"), synthetic_images()[3])
    assert main(["extract-faces", str(face_folder), *QUIET, "--output", str(output)]) == 1
    assert "1 of 3 inputs failed" in capsys.readouterr().err
    assert [line["error"] is None for line in read_lines(output)] == [True, True, False]


def raise_cv2_error(*args: Any, **kwargs: Any) -> bool:
    raise cv2.error("could not find a writer for the specified extension")


@pytest.mark.parametrize("imwrite", [lambda *a, **k: False, raise_cv2_error], ids=["returns-false", "raises"])
def test_crop_write_failure_is_recorded(
    face_folder: Path, tmp_path: Path, imwrite: Callable[..., bool],
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
) -> None:
    output, crops = tmp_path / "faces.jsonl", tmp_path / "crops"
    monkeypatch.setattr(cv2, "imwrite", imwrite)

    code = main(["extract-faces", str(face_folder / "a_face.jpg"), *QUIET, "--output", str(output),
                 "--crops", str(crops)])

    assert code == 1
    assert "1 of 1 inputs failed" in capsys.readouterr().err
    [line] = read_lines(output)
    assert line["error"] is None and line["faces"]
    for face in line["faces"]:
        assert face["crop"] is None
        assert face["crop_error"] and ("imwrite" in face["crop_error"] or "writer" in face["crop_error"])
    assert list(crops.iterdir()) == []


def test_crops_into_a_non_empty_folder_need_overwrite(
    faceless_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    output, crops = tmp_path / "faces.jsonl", tmp_path / "crops"
    crops.mkdir()
    for name in ["000000_old_face0.jpg", "000012_x_y_face3.jpg"]:
        (crops / name).write_bytes(b"an earlier crop")
    (crops / "notes.txt").write_text("not a crop")
    command = ["extract-faces", str(faceless_folder), *QUIET, "--output", str(output), "--crops", str(crops)]

    assert main(command) == 2
    assert "not empty" in capsys.readouterr().err
    assert len(list(crops.iterdir())) == 3 and not output.exists()

    assert main([*command, "--overwrite"]) == 1  # the inputs are faceless
    assert "removed 2 crop files" in capsys.readouterr().err
    assert [p.name for p in crops.iterdir()] == ["notes.txt"]
    assert len(read_lines(output)) == 2


# ---------------------------------------------------------------- --resume


def test_resume_skips_recorded_paths_and_repairs_a_torn_line(
    faceless_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    output = tmp_path / "faces.jsonl"
    cv2.imwrite(str(faceless_folder / "c_noise.png"), synthetic_images()[1])
    first = str(faceless_folder / "a_ramp.png")
    assert main(["extract-faces", first, *QUIET, "--output", str(output)]) == 1
    recorded = output.read_bytes()
    output.write_bytes(recorded + b'{"path": "' + str(faceless_folder / "b_grey.png").encode() + b'", "fa')
    seen: List[str] = []
    real = extract_command.iter_extract_faces

    def spy(paths: List[str], options: Any) -> Iterator[Any]:
        seen.extend(paths)
        return real(paths, options)

    monkeypatch.setattr(extract_command, "iter_extract_faces", spy)

    code = main(["extract-faces", str(faceless_folder), *QUIET, "--output", str(output), "--resume"])

    assert code == 1
    err = capsys.readouterr().err
    assert "cut a torn last line" in err and "1 already recorded" in err
    assert [Path(p).name for p in seen] == ["b_grey.png", "c_noise.png"]
    assert output.read_bytes().startswith(recorded)
    assert [Path(line["path"]).name for line in read_lines(output)] == ["a_ramp.png", "b_grey.png", "c_noise.png"]


def test_resume_after_an_interruption_keeps_crops_and_their_names(
    face_folder: Path, tmp_path: Path, interrupt_after_first: Callable[[BaseException], None],
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
) -> None:
    output, crops = tmp_path / "faces.jsonl", tmp_path / "crops"
    command = ["extract-faces", str(face_folder), *QUIET, "--output", str(output), "--crops", str(crops), "--resume"]
    interrupt_after_first(KeyboardInterrupt())

    assert main(command) == 130
    assert "1 lines appended" in capsys.readouterr().err
    assert [Path(line["path"]).name for line in read_lines(output)] == ["a_face.jpg"]
    first_crops = sorted(p.name for p in crops.iterdir())
    assert first_crops and all(name.startswith("000000_a_face_face") for name in first_crops)

    monkeypatch.undo()
    assert main(command) == 0
    lines = read_lines(output)
    assert [Path(line["path"]).name for line in lines] == ["a_face.jpg", "b_face.jpg"]
    second = [Path(face["crop"]).name for face in lines[1]["faces"]]
    assert second and all(name.startswith("000001_b_face_face") for name in second)  # position among all inputs
    assert sorted(p.name for p in crops.iterdir()) == sorted(first_crops + second)


@pytest.mark.parametrize(
    "content", [b"results of an earlier run", b"not json\n" + OLD_OUTPUT, OLD_OUTPUT + b"[1, 2]\n"],
    ids=["no-newline", "first-line", "last-line"],
)
def test_resume_refuses_a_file_it_did_not_write(
    faceless_folder: Path, tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture
) -> None:
    output = tmp_path / "faces.jsonl"
    output.write_bytes(content)

    assert main(["extract-faces", str(faceless_folder), *QUIET, "--output", str(output), "--resume"]) == 2
    assert "is not a record of extract-faces" in capsys.readouterr().err
    assert output.read_bytes() == content


def test_read_recorded_lines(tmp_path: Path) -> None:
    output = tmp_path / "faces.jsonl"
    assert read_recorded_lines(str(output)) == (set(), 0)
    output.write_bytes(OLD_OUTPUT + b'{"path": "./dir//b.jpg", "faces": [], "error": null}\n{"pa')
    recorded = read_recorded_lines(str(output))
    assert recorded.paths == {"earlier.jpg", "dir/b.jpg"}
    assert recorded.keep_bytes == output.stat().st_size - len(b'{"pa')
    output.write_bytes(OLD_OUTPUT + b"{")  # a torn line, one byte long
    assert read_recorded_lines(str(output)).keep_bytes == len(OLD_OUTPUT)
    output.write_bytes(b"\n" + OLD_OUTPUT)
    with pytest.raises(UsageError):
        read_recorded_lines(str(output))
