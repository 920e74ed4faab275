"""The command line's flags, made from the options tables (``deepface.options.verbs``), and
the flags that several commands share (inputs, progress, ``--ray``).

An option of a verb's table marked ``cli`` becomes a flag of the commands that run that
verb: ``--detector-backend NAME``; a yes/no option ``--anti-spoofing`` (default no) or
``--no-align`` (default yes); a list ``--actions A [A ...]``; a dict repeated
``--detector-option KEY=VALUE``. :func:`option_values` reads them back as the verb's keywords.
"""

import argparse
from typing import Any, Callable, Collection, Dict, Mapping, Optional

from deepface.cli.common import parse_detector_options
from deepface.options.table import Option, Table

_CONVERTERS: Dict[str, Callable[[str], Any]] = {"str": str, "int": int, "float": float}


def add_inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders (walked in sorted order)")


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    """How a run reports itself."""
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--timings", action="store_true",
                        help="time each stage (load, detect, align, prepare, forward, write) and print "
                        "the seconds in the summary (also DEEPFACE_TIMINGS=1)")


def add_options(
    parser: argparse.ArgumentParser,
    table: Table,
    fixed: Collection[str] = (),
    defaults: Optional[Mapping[str, Any]] = None,
    required: Collection[str] = (),
) -> None:
    """A flag for each command-line option of ``table`` but the ``fixed`` ones (the command
    sets those itself); ``defaults`` replace the table's where the command differs."""
    defaults = defaults or {}
    for option in table:
        if option.cli and option.name not in fixed:
            add_flag(parser, option, defaults.get(option.name, option.default), option.name in required)


def add_flag(parser: argparse.ArgumentParser, option: Option, default: Any, required: bool = False) -> None:
    """The flag of one option (see the module's docstring for its shape)."""
    if option.kind == "bool":
        if default:
            name = "--no-" + option.flag[2:]
            parser.add_argument(name, dest=option.name, action="store_false", help=f"do not: {option.help}")
        else:
            parser.add_argument(option.flag, dest=option.name, action="store_true", help=option.help)
        return
    if option.kind == "dict":
        parser.add_argument(
            option.flag, dest=option.name, action="append", default=[], metavar=option.metavar,
            help=f"{option.help} (repeatable)",
        )  # fmt: skip
        return
    if option.kind == "list":
        parser.add_argument(
            option.flag, dest=option.name, nargs="+", choices=option.choices or None, default=list(default),
            metavar=option.metavar, help=f"{option.help}; put it after the inputs",
        )  # fmt: skip
        return
    shown = "" if required or default is None else " (default: %(default)s)"
    parser.add_argument(
        option.flag, dest=option.name, type=value_parser(option), default=default, required=required,
        choices=option.choices or None, metavar=option.metavar, help=option.help + shown,
    )  # fmt: skip


def value_parser(option: Option) -> Callable[[str], Any]:
    """Text to the option's value, checked as the table checks it (argparse reports a refusal)."""
    convert = _CONVERTERS[option.kind]

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a{'n' if option.kind == 'int' else ''} {option.kind}: {text!r}")
        least = option.least_asked
        if least is not None and value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
        if option.kind == "str":
            return value  # names (detectors, models) are checked when the run starts
        try:
            return option.validate(value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from error

    parse.__name__ = option.kind  # argparse names the type in its message
    return parse


def option_values(args: argparse.Namespace, table: Table, fixed: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """The verb's keywords from the parsed flags (``KEY=VALUE`` lists read into dicts), plus
    the values the command ``fixed``."""
    fixed = fixed or {}
    values: Dict[str, Any] = {}
    for option in table:
        if option.cli and option.name not in fixed:
            value = getattr(args, option.name)
            values[option.name] = parse_detector_options(value) if option.kind == "dict" else value
    return {**values, **fixed}


def add_ray_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="run on Ray Data (a local Ray, or the cluster at ADDRESS) and write --output as a Parquet "
        "folder (needs deepface[ray]; see docs/ray.md)",
    )
