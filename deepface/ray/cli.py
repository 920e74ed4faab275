"""``deepface extract-faces ... --ray [ADDRESS] --output FOLDER`` (and ``represent``): the
command's job on Ray Data, written as a Parquet folder with Ray's progress shown.

``--ray`` alone starts a local Ray for the run (or uses the one this process already
joined); ``--ray ADDRESS`` joins a cluster (``auto``, ``ray://head:10001``...). One actor
per CPU of the cluster, at most one per input, each with one CPU. The folder is written
beside its target and renamed over it at the end, so a run that fails leaves no half
folder. ``extract-faces`` writes one row per input (``path``, ``faces``, ``error``);
``represent`` one row per face (``path``, ``face_index``, ``facial_area``,
``face_confidence``, ``embedding``, ``error``; ``face_index`` -1 for a failed input), in
input order.
"""

import argparse
import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List

from deepface.cli.common import (
    STDOUT,
    RunTally,
    UsageError,
    describe_error,
    input_paths,
    report_run,
)
from deepface.cli.output import left_as_it_was, reported_if_broken_off
from deepface.commons.exceptions import MissingDependencyError
from deepface.commons.logger import get_logger
from deepface.ray.datasets import extract_faces_dataset, import_ray, represent_dataset
from deepface.ray.resources import ResourcePlanError, cluster_nodes

logger = get_logger(__name__)

LOCAL = "local"
#: Flags of the file-writing commands that have no meaning for a Parquet folder.
_FILE_ONLY_FLAGS = ("resume", "crops", "overwrite")


def extract_faces_on_ray(args: argparse.Namespace, options: Dict[str, Any]) -> int:
    """``extract-faces --ray``: one row per input in the Parquet folder ``args.output``.

    ``options``: ``extract_faces``' keywords as the command read them from its flags (the
    flags are made from the options table, ``deepface.options.verbs.EXTRACT``)."""
    paths = _checked_inputs(args)
    keywords = dict(options)
    batch_size = keywords.pop("batch_size")
    return _run(args, paths, lambda ds, actors: extract_faces_dataset(
        ds, num_actors=actors, batch_size=batch_size, preserve_order=True, **keywords))


def represent_on_ray(args: argparse.Namespace, options: Dict[str, Any]) -> int:
    """``represent --ray``: one row per face in the Parquet folder ``args.output``;
    ``options``: ``represent``'s keywords, read from the command's flags (``REPRESENT``)."""
    paths = _checked_inputs(args)
    keywords = dict(options)
    batch_size = keywords.pop("batch_size")
    return _run(args, paths, lambda ds, actors: represent_dataset(
        ds, explode=True, num_actors=actors, batch_size=batch_size, preserve_order=True, **keywords))


def _checked_inputs(args: argparse.Namespace) -> List[str]:
    """The input paths, once the command line is checked (nothing written yet)."""
    for flag in _FILE_ONLY_FLAGS:
        if getattr(args, flag, None):
            raise UsageError(f"--{flag} does not apply with --ray (the output is a Parquet folder)")
    if args.output in (None, STDOUT):
        raise UsageError("--ray needs --output FOLDER: the Parquet folder to write")
    check_output_folder(args.output)
    return input_paths(args.inputs)


def check_output_folder(folder: str) -> None:
    """The output must be a new or empty folder, in an existing folder."""
    if os.path.exists(folder):
        if not os.path.isdir(folder):
            raise UsageError(f"--output {folder} is a file; with --ray it names a folder")
        if os.listdir(folder):
            raise UsageError(f"--output folder {folder} is not empty")
    parent = os.path.dirname(os.path.abspath(folder))
    if not os.path.isdir(parent):
        raise UsageError(f"no such folder for --output: {parent}")


def _run(args: argparse.Namespace, paths: List[str], job: Callable[[Any, int], Any]) -> int:
    try:
        ray = import_ray()
    except MissingDependencyError as error:
        raise UsageError(str(error)) from error
    with connected(ray, args.ray):
        ray.data.DataContext.get_current().enable_progress_bars = not args.no_progress
        actors = actors_for(len(paths))
        try:
            dataset = job(ray.data.from_items([{"path": path} for path in paths]), actors)
        except (ResourcePlanError, ValueError) as error:
            raise UsageError(describe_error(error)) from error
        with reported_if_broken_off(lambda: left_as_it_was(args.output)), folder_beside(args.output) as temp:
            dataset.write_parquet(temp)
    return report_run(tally_of(args.output), "the error column")


@contextmanager
def connected(ray: Any, address: str) -> Iterator[None]:
    """Ray for the run: the instance this process already joined, a new local one
    (``address`` ``"local"``), or the cluster at ``address``; left (shut down, or
    disconnected from the cluster) at the end unless it was already joined."""
    if ray.is_initialized():
        logger.info("using the Ray instance this process has already joined")
        yield
        return
    started_here = address == LOCAL
    try:
        ray.init(address=address, **({"include_dashboard": False} if started_here else {}))
    except Exception as error:
        raise UsageError(f"cannot connect to Ray at {address!r}: {describe_error(error)}") from error
    try:
        yield
    finally:
        ray.shutdown()


def actors_for(inputs: int) -> int:
    """One 1-CPU actor per whole CPU of the cluster, at most one per input."""
    cpus = sum(node.cpus for node in cluster_nodes())
    return max(1, min(inputs, math.floor(cpus)))


@contextmanager
def folder_beside(target: str) -> Iterator[str]:
    """A temporary folder beside ``target``, renamed over it (new or empty) when the block
    ends normally, removed when it raises."""
    parent, name = os.path.split(os.path.abspath(target))
    temp = tempfile.mkdtemp(prefix=f".{name}.", suffix=".part", dir=parent)
    try:
        yield temp
        if os.path.isdir(target):
            os.rmdir(target)  # empty: checked before the run
        os.replace(temp, target)
    finally:
        if os.path.exists(temp):
            shutil.rmtree(temp, ignore_errors=True)


def tally_of(folder: str) -> RunTally:
    """What a written folder holds: inputs, faces, failed inputs."""
    import pyarrow.parquet as pq

    table = pq.read_table(folder)
    if "faces" in table.column_names:
        rows = table.select(["faces", "error"]).to_pylist()
        return RunTally(
            images=len(rows),
            faces=sum(len(row["faces"] or []) for row in rows),
            failed=sum(row["error"] is not None for row in rows),
        )
    rows = table.select(["path", "face_index", "error"]).to_pylist()
    return RunTally(
        images=len({row["path"] for row in rows}),
        faces=sum(row["face_index"] >= 0 for row in rows),
        failed=sum(row["error"] is not None for row in rows),
    )

