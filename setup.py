"""Packaging for the batched, deepface-compatible face analysis library."""

import importlib.util
import os

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def read_requirements(name: str) -> list:
    with open(os.path.join(HERE, name), encoding="utf-8") as handle:
        return [
            line.split("#")[0].strip()
            for line in handle
            if line.split("#")[0].strip() and not line.startswith("-")
        ]


def read_version() -> str:
    with open(os.path.join(HERE, "deepface", "__init__.py"), encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("__version__"):
                return line.split("=")[1].strip().strip('"')
    raise RuntimeError("no __version__ in deepface/__init__.py")


class BuildPyWithGrpcStubs(build_py):
    """Also write the gRPC stubs generated from deepface/api/proto/deepface.proto into the build.

    Needs grpcio-tools in the build environment; without it (or for an editable install) the
    package keeps its loaders, which generate the stubs on import (deepface/api/proto/generate.py).
    """

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        generator = _load_stub_generator()
        try:
            generator.write_stubs(self.build_lib)
        except generator.StubGenerationError as err:
            print(f"deepface: gRPC stubs left to be generated on import ({err})")


def _load_stub_generator():
    """deepface/api/proto/generate.py, loaded by path: the package is not installed yet."""
    path = os.path.join(HERE, "deepface", "api", "proto", "generate.py")
    spec = importlib.util.spec_from_file_location("deepface_stub_generator", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


setup(
    name="deepface",
    version=read_version(),
    description="A drop-in replacement for deepface whose face pipeline runs in batches",
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    # the library only: testkit/ (helpers shared by tests/ and scripts/) stays in the checkout
    packages=find_packages(include=["deepface", "deepface.*"]),
    package_data={"deepface.api.proto": ["deepface.proto"]},
    cmdclass={"build_py": BuildPyWithGrpcStubs},
    python_requires=">=3.10",
    install_requires=read_requirements("requirements.txt"),
    extras_require={
        # deepface's engine extras: TensorFlow (with mtcnn, as deepface's) and PyTorch;
        # tf-keras, which retina-face needs beside TensorFlow 2.16+, goes in with --no-deps
        # (requirements-nodeps.txt)
        "tensorflow": ["tensorflow>=2.16,<2.22", "mtcnn==1.0.0"],
        "pytorch": ["torch>=2.1"],
        # the faster CPU runtime for deepface's .onnx and .h5 files, and bf16 (docs/engines.md)
        "openvino": ["openvino>=2025.1"],
        "yolo": ["ultralytics-opencv-headless>=8.3.203", "torch>=2.1", "torchvision>=0.16",
                 "onnx>=1.12,<2", "onnxruntime>=1.16"],
        "dlib": ["dlib-bin>=19.24", "face_recognition_models>=0.3"],
        # mediapipe 0.10.14 itself goes in with --no-deps (requirements-nodeps.txt)
        "mediapipe": ["attrs>=22"],
        # find's pandas results and its feather/parquet datastores; the CLI's Parquet output
        "find": ["pandas>=2", "pyarrow>=14"],
        # register/search/identify/build_index backends (sqlite needs nothing)
        "postgres": ["psycopg[binary]>=3.1"],
        # pgvector < 0.5 loads vectors as numpy arrays, as deepface 0.0.103's client needs
        "pgvector": ["psycopg[binary]>=3.1", "pgvector>=0.3,<0.5"],
        "mysql": ["PyMySQL>=1.1"],
        "redis": ["redis[hiredis]>=5"],
        "faiss": ["faiss-cpu>=1.7.4"],
        "qdrant": ["qdrant-client>=1.9"],
        "milvus": ["pymilvus>=2.4", "milvus-lite>=2.4"],
        # the REST API (deepface serve)
        "api": ["flask>=3", "flask-cors>=4", "gunicorn>=22", "python-dotenv>=1", "prometheus-client>=0.17"],
        # deepface's fire-style command line (deepface verify img1.jpg img2.jpg), as deepface's extra
        "cli": ["fire>=0.4.0"],
        # deepface's gRPC server (deepface.api.src.grpc_server); grpcio-tools generates its
        # stubs from deepface/api/proto/deepface.proto (protobuf 6-7, as TensorFlow 2.21 pins)
        "grpc": ["grpcio>=1.60", "grpcio-tools>=1.60", "protobuf>=6.31.1,<8", "python-dotenv>=1"],
        # find's s3:// datastores (ftp:// needs only the standard library)
        "s3": ["boto3>=1.34"],
        # scale-out on Ray Data (deepface.ray)
        "ray": ["ray[data]>=2.40", "pandas>=2", "pyarrow>=14"],
        # the tests' throw-away PostgreSQL with the pgvector extension (MariaDB and Redis
        # come from apt: make database-servers)
        "test-databases": ["pgserver>=0.1.4"],
        # pyftpdlib and moto's standalone S3 server: the file stores' tests run real servers
        "test": ["pytest>=8", "pytest-timeout>=2.2", "pytest-xdist>=3.5", "pandas>=2", "pyarrow>=14",
                 "pyftpdlib>=1.5", "moto[server]>=5"],
    },
    entry_points={"console_scripts": ["deepface=deepface.cli:console"]},
)
