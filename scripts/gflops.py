"""Each recognition network's GFLOP/s on the runtime in use, beside numpy's sgemm peak
measured in the same run (issue 25, item 6).

FLOPs per face are counted from deepface's ``.onnx`` graph of the network (the same
architecture every engine runs): 2 x the multiply-accumulates of each ``Conv``, ``Gemm``
and ``MatMul`` at batch 1, the rest (activations, pooling, normalisation) left out. The
forward pass is timed on this package's runner of the network (``DEEPFACE_RUNTIME`` and
``DEEPFACE_BACKEND_ENGINE`` as set; by default the fastest installed) on random input;
the sgemm peak is the best of a few large float32 matrix products in numpy.

    python scripts/gflops.py --models VGG-Face Facenet ArcFace --batch-sizes 1 8 --repeats 5

No weights can be downloaded here: random-weight files of deepface's own architectures
are written (``.h5``, ``.pth`` and ``.onnx``, by the oracle's model code) into ``--home``
(default: a temporary folder).
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from benchmark import REPO, command_line, replace_section  # beside this script

#: deepface's ``.onnx`` file of each recognition network.
ONNX_FILES = {
    "VGG-Face": "vgg_face_weights.onnx",
    "Facenet": "facenet_weights.onnx",
    "Facenet512": "facenet512_weights.onnx",
    "OpenFace": "openface_weights.onnx",
    "ArcFace": "arcface_weights.onnx",
    "GhostFaceNet": "ghostfacenet_v1.onnx",
    "DeepID": "deepid_weights.onnx",
}
SECTION = "gflops"


# ---------------------------------------------------------------- counting


def count_flops(path: str) -> Dict[str, float]:
    """FLOPs per input of an ONNX graph, by operator type (``Conv``, ``Gemm``, ``MatMul``):
    2 x multiply-accumulates, shapes inferred at batch 1."""
    import onnx

    model = onnx.load(path)
    for graph_input in model.graph.input:
        dims = graph_input.type.tensor_type.shape.dim
        if dims and not dims[0].dim_value:
            dims[0].Clear()
            dims[0].dim_value = 1
    model = onnx.shape_inference.infer_shapes(model)
    shapes = tensor_shapes(model)
    flops: Dict[str, float] = {}
    for node in model.graph.node:
        macs = node_macs(node, shapes)
        if macs:
            flops[node.op_type] = flops.get(node.op_type, 0.0) + 2.0 * macs
    return flops


def tensor_shapes(model: Any) -> Dict[str, List[int]]:
    """Every tensor's static shape the graph knows: inputs, inferred values, outputs, weights."""
    shapes: Dict[str, List[int]] = {}
    for info in (*model.graph.input, *model.graph.value_info, *model.graph.output):
        dims = info.type.tensor_type.shape.dim
        shapes[info.name] = [d.dim_value if d.dim_value else -1 for d in dims]
    for weight in model.graph.initializer:
        shapes[weight.name] = list(weight.dims)
    return shapes


def node_macs(node: Any, shapes: Dict[str, List[int]]) -> float:
    """Multiply-accumulates of one ``Conv``, ``Gemm`` or ``MatMul`` node (0 for others,
    or where a shape is unknown)."""
    if node.op_type == "Conv":
        return conv_macs(shapes.get(node.input[1], []), shapes.get(node.output[0], []))
    if node.op_type == "Gemm":
        return gemm_macs(shapes.get(node.input[0], []), shapes.get(node.input[1], []), trans_b(node))
    if node.op_type == "MatMul":
        return matmul_macs(shapes.get(node.input[0], []), shapes.get(node.output[0], []))
    return 0.0


def conv_macs(weight: Sequence[int], output: Sequence[int]) -> float:
    """Each element of ``output`` (n, c_out, *spatial) takes one kernel of ``weight``
    (c_out, c_in / group, *kernel): c_in / group x the kernel's size."""
    if len(weight) < 3 or not output or min(output) < 1:
        return 0.0
    return float(np.prod(output, dtype=np.float64) * np.prod(weight[1:], dtype=np.float64))


def gemm_macs(a: Sequence[int], b: Sequence[int], transposed_b: bool = False) -> float:
    """(m, k) x (k, n): m x k x n (``B`` given as (n, k) when ``transB``)."""
    if len(a) != 2 or len(b) != 2 or min(a) < 1:
        return 0.0
    n = b[0] if transposed_b else b[1]
    return float(a[0] * a[1] * n)


def matmul_macs(a: Sequence[int], output: Sequence[int]) -> float:
    """(..., m, k) x (..., k, n) -> (..., m, n): every output element takes k."""
    if not a or not output or min(output) < 1 or a[-1] < 1:
        return 0.0
    return float(np.prod(output, dtype=np.float64) * a[-1])


def trans_b(node: Any) -> bool:
    return any(a.name == "transB" and a.i for a in node.attribute)


# ---------------------------------------------------------------- timing


def best_seconds(call: Callable[[], Any], repeats: int) -> float:
    """The fastest of ``repeats`` timed calls, after one untimed warm-up."""
    call()
    best = float("inf")
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


def sgemm_peak(size: int, repeats: int) -> float:
    """numpy's float32 matrix product of two ``size`` x ``size`` matrices, in GFLOP/s (best)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    seconds = best_seconds(lambda: a @ b, repeats)
    return 2.0 * size**3 / seconds / 1e9


#: Forces OpenBLAS's kernels for an older CPU (this project's machines set ``Haswell``:
#: AVX2 only), read once when numpy loads: the peak is also measured in a process without it.
CORETYPE_VARIABLE = "OPENBLAS_CORETYPE"


def sgemm_peak_own_kernels(size: int, repeats: int) -> Optional[float]:
    """:func:`sgemm_peak` in a fresh process without ``OPENBLAS_CORETYPE`` (OpenBLAS then
    takes the kernels of this CPU); None when the variable is not set."""
    if not os.environ.get(CORETYPE_VARIABLE):
        return None
    env = {k: v for k, v in os.environ.items() if k != CORETYPE_VARIABLE}
    done = subprocess.run([sys.executable, __file__, "--peak-only", "--gemm-size", str(size), "--repeats", str(repeats)],
                          env=env, capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1])


@dataclass
class Peak:
    """numpy's sgemm peak in this process, and where ``OPENBLAS_CORETYPE`` forced older
    kernels, with this CPU's own; the higher is the one that counts."""

    here: float
    own_kernels: Optional[float] = None

    @property
    def best(self) -> float:
        return max(self.here, self.own_kernels or 0.0)

    def higher(self, other: "Peak") -> "Peak":
        """Each figure's higher of two measurements."""
        own = [p for p in (self.own_kernels, other.own_kernels) if p is not None]
        return Peak(max(self.here, other.here), max(own) if own else None)

    def describe(self) -> str:
        text = f"{self.here:.1f} GFLOP/s"
        if self.own_kernels is not None:
            text += (f" with `{CORETYPE_VARIABLE}={os.environ.get(CORETYPE_VARIABLE)}` as set here, "
                     f"{self.own_kernels:.1f} GFLOP/s without it (this CPU's own kernels)")
        return text


def measure_peak(size: int, repeats: int) -> Peak:
    return Peak(sgemm_peak(size, repeats), sgemm_peak_own_kernels(size, repeats))


@dataclass
class Row:
    network: str
    runtime: str
    precision: str
    batch_size: int
    seconds: float  # one forward pass of the batch (best of the repeats)
    gflop_per_face: float

    @property
    def ms_per_face(self) -> float:
        return 1000.0 * self.seconds / self.batch_size

    @property
    def gflops(self) -> float:
        return self.gflop_per_face * self.batch_size / self.seconds


def time_network(name: str, batch_sizes: Sequence[int], repeats: int, gflop_per_face: float) -> List[Row]:
    """This package's runner of ``name`` timed on random faces at each batch size."""
    from deepface.modules import modeling

    client = modeling.build_model(task="facial_recognition", model_name=name)
    runner = client.runner
    width, height = client.input_shape  # deepface's (width, height)
    rng = np.random.default_rng(0)
    rows = []
    for batch_size in batch_sizes:
        batch = rng.random((batch_size, height, width, 3), dtype=np.float32)
        seconds = best_seconds(lambda: runner(batch), repeats)
        rows.append(Row(name, runner.runtime, runner.precision, batch_size, seconds, gflop_per_face))
    return rows


# ---------------------------------------------------------------- the report


def render_table(rows: Sequence[Row], peak: float) -> str:
    """network, runtime, batch, ms/face, GFLOP/face, GFLOP/s, % of the sgemm peak."""
    out = ["| network | runtime | precision | batch | ms/face | GFLOP/face | GFLOP/s | of sgemm peak |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r.network} | {r.runtime} | {r.precision} | {r.batch_size} | {r.ms_per_face:.1f} | "
                   f"{r.gflop_per_face:.2f} | {r.gflops:.1f} | {r.gflops / peak:.0%} |")
    return "\n".join(out)


def section_text(table: str, peak: Peak, args: argparse.Namespace, argv: Sequence[str], load: str) -> str:
    from deepface.commons import thread_budget

    return "\n".join([
        "## Forward passes against the sgemm peak",
        "",
        f"Command: `{command_line('gflops.py', argv)}`; measured {time.strftime('%Y-%m-%d')} on "
        f"{platform.machine()}, {os.cpu_count()} CPUs ({thread_budget.thread_budget()} threads for the "
        f"runtimes); machine load (`uptime`) before: `{load}`.",
        f"numpy's sgemm peak ({args.gemm_size}x{args.gemm_size} float32, best of {args.repeats}, "
        f"before and after the networks): {peak.describe()}; the last column is against "
        f"{peak.best:.1f} GFLOP/s. FLOPs per face: 2 x the multiply-accumulates of the convolutions and "
        "matrix products of deepface's `.onnx` graph at batch 1; the forward pass is this package's "
        "runner on random input, best of the repeats. "
        "A share above 100% means numpy's product is not this machine's peak (the runtimes' "
        "kernels do better, or other work slowed the sgemm runs more than the network's).",
        "",
        table,
        "",
    ])


def ensure_weights(home: Path, models: Sequence[str], oracle: Path) -> None:
    """The ``.h5`` files this package's default runs, and the ``.onnx`` files counted."""
    from benchmark_matrix import ensure_weights as write_weights  # beside this script

    write_weights(home, argparse.Namespace(detectors=[], verbs=["represent"], models=list(models),
                                           engines=["onnx"]), oracle)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", choices=sorted(ONNX_FILES), default=["VGG-Face", "Facenet", "ArcFace"])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per row; the best is kept")
    parser.add_argument("--gemm-size", type=int, default=2048, help="the sgemm's matrix size")
    parser.add_argument("--oracle", default=str(REPO / ".oracle"))
    parser.add_argument("--home", default=None, help="a DEEPFACE_HOME to keep the random weights in")
    parser.add_argument("--peak-only", action="store_true", help="print numpy's sgemm peak only (GFLOP/s)")
    parser.add_argument("--output", default=None,
                        help="also write the table into this markdown report's gflops section")
    args = parser.parse_args(argv)
    args.oracle = str(Path(args.oracle).resolve())
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.peak_only:
        print(f"{sgemm_peak(args.gemm_size, args.repeats):.3f}")
        return 0
    load = "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="deepface-gflops-") as tmp:
        home = Path(args.home).resolve() if args.home else Path(tmp)
        ensure_weights(home, args.models, Path(args.oracle))
        os.environ["DEEPFACE_HOME"] = str(home)  # before this package is imported
        weights = home / ".deepface" / "weights"
        before = measure_peak(args.gemm_size, args.repeats)
        rows: List[Row] = []
        for name in args.models:
            gflop = sum(count_flops(str(weights / ONNX_FILES[name])).values()) / 1e9
            rows.extend(time_network(name, args.batch_sizes, args.repeats, gflop))
            print(render_table(rows[-len(args.batch_sizes):], before.best).splitlines()[-1], flush=True)
        after = measure_peak(args.gemm_size, args.repeats)  # again: the machine may be busy
        peak = before.higher(after)
    table = render_table(rows, peak.best)
    print(f"\nsgemm peak {peak.describe()}\n{table}")
    if args.output:
        output = Path(args.output)
        before = output.read_text(encoding="utf-8") if output.is_file() else ""
        output.write_text(replace_section(before, SECTION, section_text(table, peak, args, argv, load)),
                          encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
