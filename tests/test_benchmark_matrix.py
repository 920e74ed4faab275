"""The pure parts of scripts/benchmark_matrix.py and scripts/gflops.py (issue 25, items 6
and 7): arguments, the plan, the table and its ratio to deepface's fastest engine, the
report's sections, the FLOP counter. Nothing is timed here."""

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO_DIR = Path(__file__).resolve().parent.parent
SCRIPTS_DIR = REPO_DIR / "scripts"


def load_script(name: str) -> ModuleType:
    if str(SCRIPTS_DIR) not in sys.path:
        sys.path.insert(0, str(SCRIPTS_DIR))  # the scripts import each other by name
    return importlib.import_module(name)


@pytest.fixture(scope="module")
def matrix() -> ModuleType:
    return load_script("benchmark_matrix")


@pytest.fixture(scope="module")
def gflops() -> ModuleType:
    return load_script("gflops")


def test_defaults_are_the_full_matrix(matrix) -> None:
    args = matrix.parse_args([])
    assert args.detectors == ["opencv", "mtcnn", "retinaface", "yolov8n"]
    assert args.models == ["VGG-Face", "Facenet", "ArcFace"]
    assert args.batch_sizes == [1, 8, 32]
    assert args.verbs == ["extract_faces", "represent", "analyze"]
    assert args.engines == ["tensorflow", "pytorch", "onnx"]
    assert args.repeats == 3


def test_a_subset_and_the_plan(matrix) -> None:
    args = matrix.parse_args(["--detectors", "opencv", "mtcnn", "--models", "Facenet", "--batch-sizes", "8",
                              "--verbs", "extract_faces", "represent", "--engines", "onnx", "--repeats", "1",
                              "--photos", "4"])
    cells = matrix.cells(args)
    assert [(c.verb, c.detector, c.model) for c in cells] == [
        ("extract_faces", "opencv", "-"), ("extract_faces", "mtcnn", "-"),
        ("represent", "opencv", "Facenet"), ("represent", "mtcnn", "Facenet")]
    assert matrix.peer_engines(cells[0], args.engines) == [matrix.ANY_ENGINE]  # detectors ignore the engine
    assert matrix.peer_engines(cells[2], ["tensorflow", "onnx"]) == ["tensorflow", "onnx"]
    request = matrix.request_for(cells[2], ["a.jpg", "b.jpg"], 8, Path("scratch"))
    assert request["task"] == "represent" and request["model_name"] == "Facenet" and request["batch_size"] == 8
    analyze = matrix.request_for(matrix.Cell("analyze", "opencv", "-"), ["a.jpg"], None, Path("s"))
    assert analyze["actions"] == ["emotion", "age", "gender", "race"] and analyze["batch_size"] is None
    assert matrix.subset_text(args) == ("detectors opencv, mtcnn; models Facenet; batch sizes 8; verbs extract_faces, "
                                        "represent; engines onnx; 1 run(s) per row instead of the median of 3")
    assert matrix.subset_text(matrix.parse_args([])) == ""
    assert set(matrix.networks_needed(matrix.parse_args(["--verbs", "analyze"]))) == {"Emotion", "Age", "Gender", "Race"}


@pytest.mark.parametrize("argv", [["--detectors", "ssd"], ["--engines", "jax"], ["--repeats", "0"],
                                  ["--batch-sizes", "0"], ["--verbs", "verify"]])
def test_bad_arguments_are_refused(matrix, argv, capsys) -> None:
    with pytest.raises(SystemExit):
        matrix.parse_args(argv)


def make_runs(matrix):
    cell = matrix.Cell("represent", "opencv", "VGG-Face")
    upstream, ours = matrix.UPSTREAM, matrix.OURS
    return cell, [
        matrix.Run(cell, upstream, "tensorflow", None, 8, 8.0, 15),  # 1 img/s
        matrix.Run(cell, upstream, "pytorch", None, 8, 4.0, 15),  # 2 img/s: the fastest
        matrix.Run(cell, upstream, "onnx", None, 8, float("nan"), None, error="RuntimeError: broke"),
        matrix.Run(cell, ours, None, 8, 8, 2.0, 15, {"VGG-Face": "openvino"}),  # 4 img/s
        matrix.Run(cell, ours, None, 32, 8, float("nan"), None, error="boom"),
    ]


def test_the_ratio_is_against_deepfaces_fastest_engine(matrix) -> None:
    _, runs = make_runs(matrix)
    assert matrix.fastest_peer(runs).engine == "pytorch"  # the failed onnx run left out
    table = matrix.render_table(runs, ["tensorflow", "pytorch", "onnx"])
    lines = table.splitlines()
    assert lines[0].startswith("| verb | detector | model | batch | img/s | runs on | deepface tensorflow img/s")
    assert lines[2] == ("| represent | opencv | VGG-Face | 8 | 4.00 | VGG-Face: openvino | 1.00 | 2.00 | failed "
                        "| pytorch | 2.00x | 15 / 15 |")
    assert lines[3] == "| represent | opencv | VGG-Face | 32 | failed | - | 1.00 | 2.00 | failed | pytorch | - | - / 15 |"


def test_extract_faces_shows_its_one_deepface_run(matrix) -> None:
    cell = matrix.Cell("extract_faces", "opencv", "-")
    runs = [matrix.Run(cell, matrix.UPSTREAM, matrix.ANY_ENGINE, None, 4, 2.0, 5),
            matrix.Run(cell, matrix.OURS, None, 1, 4, 1.0, 5)]
    row = matrix.render_table(runs, ["tensorflow", "onnx"]).splitlines()[2]
    assert row == "| extract_faces | opencv | - | 1 | 4.00 | - | 2.00 | same | default | 2.00x | 5 / 5 |"


def test_the_section_replaces_its_old_self_and_keeps_the_rest(matrix) -> None:
    benchmark = load_script("benchmark")
    first = benchmark.replace_section("# Report\n\n| a |\n", "bench-matrix", "one")
    assert first.startswith("# Report\n\n| a |\n\n<!-- bench-matrix: begin -->\none\n")
    second = benchmark.replace_section(first + "tail\n", "bench-matrix", "two")
    assert "one" not in second and "two" in second and second.endswith("tail\n") and second.startswith("# Report")
    assert benchmark.replace_section("", "gflops", "x") == "<!-- gflops: begin -->\nx\n<!-- gflops: end -->\n"
    kept = benchmark.kept_sections(second, ["bench-matrix", "gflops"])
    assert kept == "<!-- bench-matrix: begin -->\ntwo\n<!-- bench-matrix: end -->\n"


def test_runtimes_are_read_from_the_log(matrix) -> None:
    recognition = load_script("benchmark_recognition")
    log = ("INFO VGG-Face runs on openvino (tensorflow's file vgg_face_weights.h5, fp32)\n"
           "noise\nAge runs on tensorflow (tensorflow's file age_model_weights.h5, fp32)\n"
           "the shared trunk of ['Age', 'Gender', 'Race'] runs on OpenVINO\n")
    assert recognition.runtimes_logged(log) == {"VGG-Face": "openvino", "Age": "tensorflow", "shared trunk": "openvino"}
    assert matrix.format_runtimes({"b": "x", "a": "y"}) == "a: y, b: x"


def test_no_photos_skips_cleanly(matrix, monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setattr(matrix, "SHARED_FACES", tmp_path / "absent")
    assert matrix.main(["--output", str(tmp_path / "report.md")]) == 0
    assert "no photos" in capsys.readouterr().err
    assert not (tmp_path / "report.md").exists()


def test_layer_macs(gflops) -> None:
    assert gflops.conv_macs([64, 3, 3, 3], [1, 64, 224, 224]) == 64 * 224 * 224 * 27
    assert gflops.conv_macs([32, 1, 3, 3], [1, 32, 10, 10]) == 32 * 100 * 9  # depthwise: c_in / group = 1
    assert gflops.gemm_macs([1, 4096], [4096, 1000]) == 4096 * 1000
    assert gflops.gemm_macs([1, 4096], [1000, 4096], transposed_b=True) == 4096 * 1000
    assert gflops.matmul_macs([2, 3, 5], [2, 3, 7]) == 2 * 3 * 7 * 5
    assert gflops.conv_macs([8, 3, 3, 3], [-1, 8, 4, 4]) == 0.0  # unknown shape: not counted


def test_count_flops_of_a_small_graph(gflops, tmp_path) -> None:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "w")
    dense = numpy_helper.from_array(np.ones((5, 32), np.float32), "d")
    shape = numpy_helper.from_array(np.array([-1, 32], np.int64), "s")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c"], ["r"]),
         helper.make_node("Reshape", ["r", "s"], ["f"]),
         helper.make_node("Gemm", ["f", "d"], ["y"], transB=1)],
        "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 5])], [weight, dense, shape])
    path = tmp_path / "tiny.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    assert gflops.count_flops(str(path)) == {"Conv": 2.0 * 2 * 16 * 9, "Gemm": 2.0 * 32 * 5}


def test_gflops_table(gflops) -> None:
    rows = [gflops.Row("VGG-Face", "openvino", "fp32", 8, 0.8, 30.0)]
    assert rows[0].ms_per_face == pytest.approx(100.0) and rows[0].gflops == pytest.approx(300.0)
    table = gflops.render_table(rows, peak=600.0)
    assert table.splitlines()[2] == "| VGG-Face | openvino | fp32 | 8 | 100.0 | 30.00 | 300.0 | 50% |"


def test_the_peak_that_counts_is_the_higher(gflops, monkeypatch) -> None:
    monkeypatch.setenv(gflops.CORETYPE_VARIABLE, "Haswell")
    peak = gflops.Peak(50.0, 120.0).higher(gflops.Peak(60.0, 100.0))
    assert (peak.here, peak.own_kernels, peak.best) == (60.0, 120.0, 120.0)
    assert "OPENBLAS_CORETYPE=Haswell" in peak.describe()
    assert gflops.Peak(50.0).higher(gflops.Peak(40.0)).best == 50.0
