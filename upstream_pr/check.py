"""deepface's own gates on the branch batched-detection, against its base; one line per gate.

    python -m upstream_pr.check path/to/deepface-clone [--gates pylint mypy unit same bench]

pylint and mypy run with the tool environment's versions (pylint 2.15.10, mypy 1.14.1) and
deepface's ``.pylintrc`` and ``mypy.ini``; mypy resolves imports in the runtime environment
(``--runtime-python``). The unit tests run as ``../shared/deepface-tests/run.sh --peer``
does (offline, random weights), on the base and on the branch. ``same`` checks batch ==
single for opencv, mtcnn and yolov8n; ``bench`` times extract_faces on both trees.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from upstream_pr.make_branch import BRANCH, CloneError, git

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
SHARED = PROJECT.parent / "shared"
UNIT_FILES = ["test_extract_faces.py", "test_enforce_detection.py", "test_landmark_sanitization.py"]
NEW_TESTS = "test_batched_detection.py"
TORCH_FIRST = (
    "try:  # torch and torchvision before TensorFlow, or the process crashes on this machine\n"
    "    import torch, torchvision  # noqa\nexcept ImportError:\n    pass\n"
)


@dataclass
class Env:
    runtime_python: str
    tool_bin: Path
    extra_path: str  # deepface master's extra runtime packages (lightphe, ...)
    home: Path  # DEEPFACE_HOME with random weights
    faces: Path


@dataclass
class Gate:
    name: str
    ok: bool
    summary: str

    def line(self) -> str:
        return f"{self.name:7s} {'PASS' if self.ok else 'FAIL'}  {self.summary}"


def run(cmd: Sequence[str], cwd: Path, env: Optional[Dict[str, str]] = None, timeout: int = 3600):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        list(cmd), cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, check=False
    )


def pylint(env: Env, branch: Path) -> Gate:
    done = run([str(env.tool_bin / "pylint"), "--fail-under=10", "deepface/"], branch)
    rating = re.search(r"rated at ([0-9.]+)/10", done.stdout)
    score = rating.group(1) if rating else "?"
    messages = [line for line in done.stdout.splitlines() if re.match(r"^deepface/.*: [CRWEF]\d", line)]
    summary = f"{score}/10" + (f"; {len(messages)} messages, first: {messages[0]}" if messages else "")
    return Gate("pylint", score == "10.00", summary)


def _mypy_errors(env: Env, tree: Path) -> List[str]:
    # one cache for both trees: the branch differs from its base in four files
    cache = tree.parent / "mypy-cache"
    done = run(
        [str(env.tool_bin / "mypy"), "--cache-dir", str(cache), "--python-executable",
         env.runtime_python, "deepface/"],
        tree,
    )
    # file and message, without the line number: lines move when code is added above them
    return sorted(
        re.sub(r":\d+:", ":", line) for line in done.stdout.splitlines() if ": error:" in line
    )


def mypy(env: Env, base: Path, branch: Path) -> Gate:
    before, after = _mypy_errors(env, base), _mypy_errors(env, branch)
    new = list(after)
    for line in before:
        if line in new:
            new.remove(line)
    summary = f"{len(before)} errors unpatched, {len(after)} patched, {len(new)} new"
    if new:
        summary += f"; first new: {new[0]}"
    return Gate("mypy", not new, summary)


def _oracle_dir(env: Env, tree: Path, into: Path) -> Path:
    """A folder with the tree's deepface and the extra packages, for run.sh's ORACLE."""
    into.mkdir(parents=True, exist_ok=True)
    (into / "deepface").symlink_to(tree / "deepface")
    for entry in Path(env.extra_path).iterdir():
        if entry.name not in ("deepface", "tests", "README.md", "package_info.json"):
            (into / entry.name).symlink_to(entry)
    return into


def _unit_run(env: Env, tree: Path, work: Path, oracle: Path, files: List[str]) -> List[str]:
    (work / "harness").mkdir(parents=True, exist_ok=True)
    (work / "harness" / "sitecustomize.py").write_text(TORCH_FIRST)
    (work / "tests" / "unit").mkdir(parents=True, exist_ok=True)
    home = work / "home"
    if not home.exists():
        home.symlink_to(env.home)
    new = tree / "tests" / "unit" / NEW_TESTS
    if new.exists():
        (work / "tests" / "unit" / NEW_TESTS).write_text(new.read_text())
    done = run(
        ["bash", str(SHARED / "deepface-tests" / "run.sh"), "--peer", *files],
        PROJECT,
        {"WORK": str(work), "ORACLE": str(oracle), "PYTHON": env.runtime_python},
        timeout=7200,
    )
    return [line for line in done.stdout.splitlines() if re.match(r"^(PASSED|FAILED|ERROR) ", line)]


def unit(env: Env, base: Path, branch: Path, tmp: Path, files: List[str]) -> Gate:
    results = {}
    for name, tree in (("base", base), ("branch", branch)):
        oracle = _oracle_dir(env, tree, tmp / f"oracle-{name}")
        tree_files = files + ([NEW_TESTS] if name == "branch" else [])
        results[name] = _unit_run(env, tree, tmp / f"unit-{name}", oracle, tree_files)
    passed_base = {line[7:] for line in results["base"] if line.startswith("PASSED")}
    passed_branch = {line[7:] for line in results["branch"] if line.startswith("PASSED")}
    lost = sorted(passed_base - passed_branch)
    new_total = [line for line in results["branch"] if NEW_TESTS in line]
    new_failed = [line for line in new_total if not line.startswith("PASSED")]
    summary = (
        f"{len(passed_base)} pass unpatched, {len(passed_branch & passed_base)} of them patched, "
        f"{len(new_total) - len(new_failed)}/{len(new_total)} of {NEW_TESTS}"
    )
    if lost or new_failed:
        summary += f"; first failure: {(lost + new_failed)[0]}"
    return Gate("unit", bool(passed_base) and not lost and not new_failed and bool(new_total), summary)


def _probe(env: Env, tree: Path, args: List[str], timeout: int = 3600) -> List[dict]:
    done = run(
        [env.runtime_python, str(HERE / "probe.py"), *args, "--faces", str(env.faces)],
        Path(tempfile.gettempdir()),
        {
            "PYTHONPATH": f"{tree}:{env.extra_path}",
            "DEEPFACE_HOME": str(env.home),
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "YOLO_CONFIG_DIR": str(env.home / "yolo"),
        },
        timeout=timeout,
    )
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if not rows:
        raise RuntimeError(f"probe {args[0]} gave nothing: {done.stderr[-2000:]}")
    return rows


def same(env: Env, branch: Path) -> Gate:
    rows = _probe(env, branch, ["same", "--detectors", "opencv", "mtcnn", "yolov8n"])
    bad = [row for row in rows if row["mismatches"]]
    summary = ", ".join(f"{r['detector']} {r['faces']} faces" for r in rows)
    if bad:
        summary += f"; {bad[0]['detector']}: {bad[0]['mismatches'][0]}"
    return Gate("same", not bad, summary)


def bench(env: Env, base: Path, branch: Path) -> Gate:
    lines = []
    for detector in ("yolov8n", "mtcnn"):
        for dataset, count, sizes in (("frames", 16, ["1", "8", "16"]), ("photos", 8, ["1", "8"])):
            args = ["bench", "--detector", detector, "--dataset", dataset, "--count", str(count),
                    "--sizes", *sizes]
            old = {r["size"]: r["median"] for r in _probe(env, base, args)}
            new = {r["size"]: r["median"] for r in _probe(env, branch, args)}
            speedups = ", ".join(f"{s}: {old[s] / new[s]:.2f}x" for s in sorted(old))
            lines.append(f"{detector} {dataset} {speedups}")
    return Gate("bench", True, "; ".join(lines))


def write_random_yolo(env: Env) -> None:
    """A random-weight yolov8n-face.pt (this project's recipe), in a process of its own."""
    target = env.home / ".deepface" / "weights" / "yolov8n-face.pt"
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    code = (
        "import sys; from pathlib import Path\n"
        "from testkit.random_yolo_models import write_random_yolo_pose_model\n"
        "write_random_yolo_pose_model(Path(sys.argv[1]), 'yolov8n')\n"
    )
    done = run([env.runtime_python, "-c", code, str(target)], PROJECT, {"PYTHONPATH": str(PROJECT)})
    if done.returncode != 0:
        raise RuntimeError(f"could not write {target}: {done.stderr[-2000:]}")


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("clone", type=Path)
    parser.add_argument("--gates", nargs="+", default=["pylint", "mypy", "unit", "same"],
                        choices=["pylint", "mypy", "unit", "same", "bench"])
    parser.add_argument("--runtime-python", default=str(PROJECT / ".venv" / "bin" / "python"))
    parser.add_argument("--extra-path", required=True, help="deepface master's extra packages")
    parser.add_argument("--home", type=Path, required=True, help="DEEPFACE_HOME for the tests")
    parser.add_argument("--unit-files", nargs="+", default=UNIT_FILES)
    args = parser.parse_args(list(argv) or None)
    env = Env(args.runtime_python, Path(sys.executable).parent, args.extra_path,
              args.home.resolve(), SHARED / "faces")
    clone = args.clone.resolve()
    try:
        tip = git(clone, "rev-parse", BRANCH)
    except CloneError:
        print(f"no branch {BRANCH} in {clone}: run make upstream-pr first")
        return 2
    if set(args.gates) & {"unit", "same", "bench"}:
        write_random_yolo(env)
    gates: List[Gate] = []
    with tempfile.TemporaryDirectory(prefix="upstream-check-") as tmp_name:
        tmp = Path(tmp_name)
        base, branch = tmp / "base", tmp / "branch"
        git(clone, "worktree", "add", "--detach", str(base), f"{tip}~5")
        git(clone, "worktree", "add", "--detach", str(branch), tip)
        try:
            for name in args.gates:
                if name == "pylint":
                    gates.append(pylint(env, branch))
                elif name == "mypy":
                    gates.append(mypy(env, base, branch))
                elif name == "unit":
                    gates.append(unit(env, base, branch, tmp, args.unit_files))
                elif name == "same":
                    gates.append(same(env, branch))
                else:
                    gates.append(bench(env, base, branch))
                print(gates[-1].line(), flush=True)
        finally:
            for tree in (base, branch):
                git(clone, "worktree", "remove", "--force", str(tree), check=False)
            git(clone, "worktree", "prune", check=False)
    return 0 if all(gate.ok for gate in gates) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
