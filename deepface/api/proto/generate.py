"""The gRPC stubs ``deepface_pb2`` / ``deepface_pb2_grpc``, generated from ``deepface.proto`` by grpcio-tools.

Two ways, one generator:

* at build time: ``setup.py``'s ``build_py`` step calls :func:`write_stubs` on the build folder,
  so a wheel (``pip install .[grpc]``) holds the generated modules, made by the grpcio-tools of
  the build environment when it has one;
* at import, for a source checkout, an editable install, or a build without grpcio-tools:
  the two modules of this folder are then small loaders calling :func:`load_module`, which
  runs protoc (in a child process, into a temporary folder: protoc's C++ crashes inside a
  process that already holds other protobuf runtimes, TensorFlow's or mediapipe's) once per
  process and executes the generated code as the module. Same ``.proto`` and same
  grpcio-tools: same code.

``python deepface/api/proto/generate.py OUT`` writes the two generated files under
``OUT/deepface/api/proto/``. This module imports only the standard library and grpc_tools,
so that ``setup.py`` can load it by path before the package is installed.
"""

import functools
import os
import subprocess
import sys
import tempfile
from typing import Any, Dict, MutableMapping

PROTO_NAME = "deepface.proto"
#: the package folder of the stubs, as protoc sees it (so their imports are absolute)
PACKAGE_PATH = ("deepface", "api", "proto")
MODULES = ("deepface_pb2", "deepface_pb2_grpc")
PROTOC_TIMEOUT_S = 120
HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


class StubGenerationError(ImportError):
    """grpcio-tools is missing, or protoc refused ``deepface.proto``."""


@functools.lru_cache(maxsize=1)
def generate_sources() -> Dict[str, str]:
    """The generated modules' source text, by module name (protoc runs once per process)."""
    import importlib.util

    spec = importlib.util.find_spec("grpc_tools")
    if spec is None or not spec.submodule_search_locations:
        raise StubGenerationError(
            "grpcio-tools is required to generate deepface's gRPC stubs: pip install 'deepface[grpc]'"
        )
    includes = os.path.join(list(spec.submodule_search_locations)[0], "_proto")
    proto = "/".join((*PACKAGE_PATH, PROTO_NAME))
    with tempfile.TemporaryDirectory(prefix="deepface-grpc-") as out:
        done = subprocess.run(
            [sys.executable, "-m", "grpc_tools.protoc", f"-I{SOURCE_ROOT}", f"-I{includes}",
             f"--python_out={out}", f"--grpc_python_out={out}", proto],
            capture_output=True, text=True, timeout=PROTOC_TIMEOUT_S, check=False,
        )
        if done.returncode != 0:
            raise StubGenerationError(f"protoc failed on {proto} (status {done.returncode}): {done.stderr.strip()}")
        folder = os.path.join(out, *PACKAGE_PATH)
        sources = {}
        for name in MODULES:
            with open(os.path.join(folder, f"{name}.py"), encoding="utf-8") as handle:
                sources[name] = handle.read()
    return sources


def write_stubs(out_root: str) -> None:
    """Write the generated modules under ``out_root/deepface/api/proto/`` (the build step)."""
    folder = os.path.join(out_root, *PACKAGE_PATH)
    os.makedirs(folder, exist_ok=True)
    for name, source in generate_sources().items():
        with open(os.path.join(folder, f"{name}.py"), "w", encoding="utf-8") as handle:
            handle.write(source)


def load_module(name: str, namespace: MutableMapping[str, Any]) -> None:
    """Execute the generated code of module ``name`` in ``namespace`` (a loader module's globals)."""
    if name not in MODULES:
        raise ValueError(f"no generated module {name!r}; known: {', '.join(MODULES)}")
    code = compile(generate_sources()[name], f"<{name} generated from {PROTO_NAME}>", "exec")
    exec(code, namespace)  # noqa: S102 - code protoc generated from this folder's .proto


if __name__ == "__main__":
    write_stubs(sys.argv[1] if len(sys.argv) > 1 else SOURCE_ROOT)
