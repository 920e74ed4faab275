"""The one ``deepface`` command: this package's batch commands beside deepface's fire-style
``deepface <function> ...`` (``DeepFace.cli``).

Which one runs is decided from the arguments alone (see docs/cli.md):

- no arguments, an option first (``--help``, ``--version``), or a batch-only command
  (``extract-faces``, ``serve``): the batch command line;
- a name the two share (``represent``, ``analyze``, ``stream``): the batch command when an
  option is one the ``DeepFace`` function does not take (``--output``, ``--model-name``,
  ``--no-progress``, ``--help``: every batch option is spelt with dashes, or is not a
  parameter), else deepface's form (``deepface represent img.jpg --model_name Facenet``);
- any other public ``DeepFace`` function (``verify``, ``find``, ``extract_faces``, ...): fire;
- anything else: the batch command line, whose error lists its commands.
"""

import inspect
import sys
from typing import Callable, Collection, Optional, Sequence

from deepface import DeepFace
from deepface.cli.common import EXIT_OK, EXIT_USAGE
from deepface.commons.exceptions import MissingDependencyError

#: Batch commands that are not ``DeepFace`` functions: never ambiguous.
BATCH_ONLY = frozenset({"extract-faces", "serve"})
#: Options that always mean the batch command's help.
HELP_OPTIONS = frozenset({"-h", "--help"})


def option_name(argument: str) -> Optional[str]:
    """``"--model_name=Facenet"`` -> ``"model_name"``; None for a positional argument
    (a negative number is a value, not an option)."""
    if not argument.startswith("-") or argument in ("-", "--") or argument.lstrip("-")[:1].isdigit():
        return None
    return argument.lstrip("-").split("=", 1)[0]


def takes_function_form(function: Callable[..., object], arguments: Sequence[str]) -> bool:
    """True when every option of ``arguments`` is a parameter of ``function`` (fire's
    ``--name`` or ``--noname`` for a boolean), so deepface's fire form was meant."""
    parameters = set(inspect.signature(function).parameters)
    for argument in arguments:
        if argument in HELP_OPTIONS:
            return False
        name = option_name(argument)
        if name is None:
            continue
        if name not in parameters and not (name.startswith("no") and name[2:] in parameters):
            return False
    return True


def wants_fire(argv: Sequence[str], batch_commands: Collection[str]) -> bool:
    """Should ``argv`` go to deepface's fire-style command line (``batch_commands``: the
    names of the batch commands)?"""
    if not argv or argv[0].startswith("-") or argv[0] in BATCH_ONLY:
        return False
    function = DeepFace._cli_functions().get(argv[0])  # pylint: disable=protected-access
    if function is None:
        return False
    return argv[0] not in batch_commands or takes_function_form(function, argv[1:])


def run_fire(argv: Sequence[str]) -> int:
    """``DeepFace.cli`` over ``argv``; its exit status."""
    try:
        DeepFace.cli(argv)
    except MissingDependencyError as error:
        print(f"deepface: {error}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK
