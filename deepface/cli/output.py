"""Output that is never lost: files written beside their target and renamed over it at the
end, and JSON lines appended to (``--resume``) past the inputs an earlier run recorded."""

import argparse
import json
import os
import sys
import tempfile
from contextlib import contextmanager
from typing import IO, Callable, Iterator, List, NamedTuple, Optional, Set

from deepface.cli.common import STDOUT, RunInterrupted, RunTally, UsageError, describe_error, logger

#: How every JSON line of ``extract-faces`` and ``analyze`` starts (``json.dumps`` of a dict
#: whose first key is ``path``).
LINE_START = b'{"path": '


def left_as_it_was(output: str) -> str:
    """What became of a file output (or stdout) that was not replaced."""
    if output == STDOUT:
        return "nothing written"
    return f"{output} left as it was" if os.path.exists(output) else f"{output} not written"


@contextmanager
def at_start_up(output: str) -> Iterator[None]:
    """Report a failure of the block (preparing a run) as a usage error naming the untouched output."""
    try:
        yield
    except UsageError as error:
        raise UsageError(f"{error} ({left_as_it_was(output)})") from error
    except Exception as error:
        logger.debug("the run could not start", exc_info=True)
        raise UsageError(f"{describe_error(error)} ({left_as_it_was(output)})") from error


@contextmanager
def reported_if_broken_off(fate: Callable[[], str]) -> Iterator[None]:
    """Report an exception that breaks off the block as a usage error, and Ctrl-C as
    :class:`RunInterrupted`, each followed by ``fate()``: what became of the output."""
    try:
        yield
    except UsageError:
        raise
    except Exception as error:
        logger.debug("the run broke off", exc_info=True)
        raise UsageError(f"{describe_error(error)} ({fate()})") from error
    except KeyboardInterrupt as error:
        raise RunInterrupted(f"interrupted ({fate()})") from error


@contextmanager
def atomic_output(output: str) -> Iterator[str]:
    """A temporary path beside ``output``: renamed over it when the block ends normally,
    removed (``output`` untouched) when it raises, Ctrl-C included."""
    temp = _temporary_beside(output)
    try:
        yield temp
        _sync_to_disk(temp)
        os.replace(temp, output)
    finally:
        if os.path.exists(temp):  # the block broke off, or the rename failed
            os.remove(temp)


def _temporary_beside(output: str) -> str:
    folder, name = os.path.split(os.path.abspath(output))
    handle, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temp, 0o666 & ~umask)  # the mode a plain open() would give, not mkstemp's 0600
    return temp


def _sync_to_disk(path: str) -> None:
    """Flush a closed file's data to disk, so that a crash after the rename cannot leave it empty."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


class RecordedLines(NamedTuple):
    """An existing JSONL output: the (normalised) paths it records, and its bytes worth keeping."""

    paths: Set[str]
    keep_bytes: int


def check_resume(args: argparse.Namespace) -> None:
    if args.resume and args.output == STDOUT:
        raise UsageError("--resume needs --output FILE (it appends to that file)")


def read_recorded_lines(output: str, command: str = "extract-faces") -> RecordedLines:
    """The paths that an earlier run recorded in ``output`` (none when it does not exist).

    A last line without its newline, left by a crash, is torn: it is not counted, and
    ``keep_bytes`` ends before it. Any other line that is not one of this command's JSON
    records stops the command (``output`` may not be what the user thinks it is).
    """
    paths: Set[str] = set()
    if not os.path.exists(output):
        return RecordedLines(paths, 0)
    keep = 0
    with open(output, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith(b"\n") and _may_be_torn(line):
                break  # the last line (it has no newline): cut away before appending
            path = _recorded_path(line)
            if path is None:
                raise UsageError(f"--resume: line {number} of {output} is not a record of {command}")
            paths.add(os.path.normpath(path))
            keep += len(line)
    return RecordedLines(paths, keep)


def _may_be_torn(line: bytes) -> bool:
    """Whether ``line`` can be the start of a line this command wrote."""
    head = line[: len(LINE_START)]
    return LINE_START.startswith(head)


def _recorded_path(line: bytes) -> Optional[str]:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    path = record.get("path") if isinstance(record, dict) else None
    return path if isinstance(path, str) else None


def cut_torn_tail(output: str, keep_bytes: int) -> None:
    if os.path.exists(output) and os.path.getsize(output) > keep_bytes:
        cut = os.path.getsize(output) - keep_bytes
        os.truncate(output, keep_bytes)
        print(f"deepface: cut a torn last line ({cut} bytes) from {output}", file=sys.stderr)


@contextmanager
def jsonl_output(output: str, resume: bool, tally: RunTally) -> Iterator[IO[str]]:
    """Where the JSON lines go: stdout, ``output`` appended to (``resume``), or a temporary
    file renamed over ``output`` at the end. A run that breaks off says what became of it."""
    if output == STDOUT:
        with reported_if_broken_off(lambda: f"{tally.images} lines written to stdout"):
            yield sys.stdout
    elif resume:

        def appended() -> str:
            return f"{tally.images} lines appended to {output}; run again with --resume to finish"

        with reported_if_broken_off(appended), open(output, "a", encoding="utf-8") as out:
            yield out
    else:
        with reported_if_broken_off(lambda: left_as_it_was(output)), atomic_output(output) as temp:
            with open(temp, "w", encoding="utf-8") as out:
                yield out


def pending_positions(paths: List[str], recorded: RecordedLines) -> List[int]:
    """The positions of the inputs that ``recorded`` does not hold yet."""
    return [index for index, path in enumerate(paths) if os.path.normpath(path) not in recorded.paths]
