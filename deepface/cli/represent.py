"""``deepface represent``: embed every face of every input into a Parquet or NumPy ``.npz``
file, one row per face (the writers are in ``deepface.cli.embeddings``)."""

import argparse
import os
from contextlib import closing
from typing import Any, Dict, Iterator, List, Tuple

from deepface import DeepFace
from deepface.cli.arguments import add_inputs, add_options, add_ray_argument, add_run_flags, option_values
from deepface.cli.common import (
    RunTally,
    UsageError,
    check_detector,
    check_output_file,
    input_paths,
    report_run,
    with_progress,
)
from deepface.cli.embeddings import EmbeddingWriter, NpzEmbeddingWriter, ParquetEmbeddingWriter, embedding_rows
from deepface.cli.output import at_start_up, atomic_output, left_as_it_was, reported_if_broken_off
from deepface.commons import timings
from deepface.modules.detection import ImageResult
from deepface.options.verbs import REPRESENT

OUTPUT_FORMATS = (".parquet", ".npz")
#: Where the command differs from ``represent``: a faceless image is embedded whole, as
#: deepface does with ``enforce_detection=False`` (``--enforce-detection`` records it as failed).
DEFAULTS = {"enforce_detection": False}


def add_parser(commands: Any) -> None:
    represent = commands.add_parser(
        "represent",
        help="embed the faces in images",
        description="Embed every face of every input; one row per face, one error row per failed input. "
        "Exit status: 0 all inputs worked, 1 some failed, 2 bad usage or a run that could not start "
        "or broke off (an existing --output left as it was), 130 interrupted.",
    )
    add_inputs(represent)
    add_options(represent, REPRESENT, defaults=DEFAULTS, required=("model_name",))
    add_run_flags(represent)
    add_ray_argument(represent)
    represent.add_argument(
        "--output",
        required=True,
        metavar="FILE",
        help="FILE.parquet (needs pyarrow; written in row groups as it goes, in bounded memory) or "
        "FILE.npz (held in memory and written at the end); written beside FILE, then renamed over it",
    )


def run(args: argparse.Namespace) -> int:
    """Embed every face of every input into ``args.output``; 1 when some inputs failed."""
    if args.ray:  # the same job on Ray Data, into a Parquet folder
        from deepface.ray.cli import represent_on_ray

        return represent_on_ray(args, option_values(args, REPRESENT))
    suffix = _output_suffix(args.output)
    if suffix == ".parquet":
        _import_pyarrow()
    with at_start_up(args.output):
        kwargs = _represent_kwargs(args)
        paths = input_paths(args.inputs)
        check_detector(args.detector_backend, kwargs["detector_options"])
        dimension = int(DeepFace.build_model(args.model_name).output_shape)
    tally = RunTally()
    with reported_if_broken_off(lambda: left_as_it_was(args.output)), atomic_output(args.output) as temp:
        writer = _open_writer(temp, suffix, dimension, kwargs)
        try:
            _write_rows(writer, DeepFace.represent_iter(paths, **kwargs), paths, tally, args.no_progress)
        except BaseException:
            writer.abort()
            raise
        writer.close()
    return report_run(tally, "the error column")


def _output_suffix(output: str) -> str:
    suffix = os.path.splitext(output)[1].lower()
    if suffix not in OUTPUT_FORMATS:
        raise UsageError(f"--output must end in {' or '.join(OUTPUT_FORMATS)}, got {output!r}")
    check_output_file(output)
    return suffix


def _import_pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError as error:
        raise UsageError(f"Parquet output needs pyarrow: pip install pyarrow (or write .npz) [{error}]") from error
    return pyarrow


def _represent_kwargs(args: argparse.Namespace) -> Dict[str, Any]:
    return option_values(args, REPRESENT)


def _open_writer(path: str, suffix: str, dimension: int, run_options: Dict[str, Any]) -> EmbeddingWriter:
    if suffix == ".parquet":
        return ParquetEmbeddingWriter(path, dimension, run_options)
    return NpzEmbeddingWriter(path, dimension)


def _write_rows(
    writer: EmbeddingWriter,
    stream: Iterator[Tuple[ImageResult, List[Dict[str, Any]]]],
    paths: List[str],
    tally: RunTally,
    no_progress: bool,
) -> None:
    with closing(stream):  # stops the decoding threads when the run breaks off
        for result, embeddings in with_progress(stream, len(paths), disable=no_progress):
            with timings.stage("write"):
                writer.add(embedding_rows(paths[result.index], result, embeddings))
            tally.images += 1
            tally.faces += len(embeddings)
            tally.failed += result.error is not None
