"""The options tables (``deepface.options``) are the one place an option is written: the
facade's defaults agree with them, and the modules' option classes, the command's flags,
the REST API's fields and the Ray keywords are made from them."""

import argparse
import dataclasses
import inspect
from typing import Any, Dict, List

import pytest

from deepface import DeepFace
from deepface.api.src.modules.core import routes
from deepface.api.src.modules.core.fields import table_fields
from deepface.cli import build_parser
from deepface.cli import extract as extract_command
from deepface.cli import represent as represent_command
from deepface.cli.arguments import add_options, option_values
from deepface.modules import datastore, recognition
from deepface.modules.detection import ExtractOptions
from deepface.modules.representation import RepresentOptions
from deepface.options import verbs
from deepface.options.table import Option, Table

#: The facade's parameters that are inputs, not options.
INPUTS = {"img_path", "img1_path", "img2_path", "img", "imgs", "db_path", "identity_id"}
#: The streaming forms of the verbs: the same options (``silent`` aside: nothing to silence).
ITERATORS = {"extract_faces_iter": "extract_faces", "represent_iter": "represent", "analyze_iter": "analyze"}
NEW_OPTION = Option("shiny", "int", 7, "a new option", at_least=1, cli=True, api=True)


def facade_options(verb: str) -> Dict[str, Any]:
    parameters = inspect.signature(getattr(DeepFace, verb)).parameters.values()
    return {p.name: p.default for p in parameters if p.name not in INPUTS}


@pytest.mark.parametrize("verb", sorted(verbs.VERBS))
def test_the_facade_takes_each_verbs_options_with_the_tables_defaults(verb: str) -> None:
    table = verbs.VERBS[verb]
    assert facade_options(verb) == table.defaults()


@pytest.mark.parametrize("function, verb", sorted(ITERATORS.items()))
def test_the_iterators_take_their_verbs_options(function: str, verb: str) -> None:
    assert facade_options(function) == verbs.VERBS[verb].without("silent").defaults()


OPTION_CLASSES = [
    (ExtractOptions, verbs.EXTRACT),
    (RepresentOptions, verbs.REPRESENT),
    (recognition.FindOptions, verbs.FIND),
    (datastore.RegisterOptions, verbs.REGISTER),
    (datastore.QueryOptions, verbs.SEARCH),
    (datastore.IdentifyOptions, verbs.IDENTIFY),
    (datastore.BuildIndexOptions, verbs.BUILD_INDEX),
]


def test_the_option_classes_are_made_from_the_tables() -> None:
    for cls, table in OPTION_CLASSES:
        assert [f.name for f in dataclasses.fields(cls)] == list(table.names)
        assert cls.TABLE is table
    assert ExtractOptions().detector_options == {}  # None, the facade's default, read as no keywords
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        RepresentOptions(batch_size=0)


def test_a_new_option_reaches_the_option_class_the_flags_and_the_fields() -> None:
    table = verbs.EXTRACT.plus("extract_faces", NEW_OPTION)
    options = table.dataclass("WithShiny")
    assert options().shiny == 7
    with pytest.raises(ValueError, match="shiny must be a positive integer"):
        options(shiny=0)

    parser = argparse.ArgumentParser()
    add_options(parser, table)
    assert option_values(parser.parse_args(["--shiny", "3"]), table)["shiny"] == 3
    assert option_values(parser.parse_args([]), table)["shiny"] == 7
    with pytest.raises(SystemExit):
        parser.parse_args(["--shiny", "0"])

    assert "shiny" in table_fields(table)


def test_a_new_option_reaches_the_ray_keywords(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """``extract-faces --ray`` hands Ray the keywords read from the flags of the table."""
    import deepface.ray.cli as ray_cli

    seen: List[Dict[str, Any]] = []
    monkeypatch.setattr(extract_command, "EXTRACT", verbs.EXTRACT.plus("extract_faces", NEW_OPTION))
    monkeypatch.setattr(ray_cli, "extract_faces_on_ray", lambda args, options: seen.append(options) or 0)
    image = tmp_path / "a.jpg"
    image.write_bytes(b"")
    args = build_parser().parse_args(["extract-faces", str(image), "--ray", "--shiny", "5", "--no-align"])
    assert extract_command.run(args) == 0
    assert seen[0]["shiny"] == 5 and seen[0]["align"] is False and seen[0]["enforce_detection"] is True


def test_represent_on_ray_gets_the_represent_table_keywords(monkeypatch: pytest.MonkeyPatch) -> None:
    import deepface.ray.cli as ray_cli

    seen: List[Dict[str, Any]] = []
    monkeypatch.setattr(ray_cli, "represent_on_ray", lambda args, options: seen.append(options) or 0)
    args = build_parser().parse_args(["represent", "a.jpg", "--model-name", "Facenet", "--output", "out", "--ray"])
    assert represent_command.run(args) == 0
    cli_options = {option.name for option in verbs.REPRESENT if option.cli}
    assert set(seen[0]) == cli_options
    assert seen[0]["enforce_detection"] is False  # the command's own default: faceless images embedded whole
    assert RepresentOptions(**seen[0]).model_name == "Facenet"  # keywords Ray's represent_dataset takes


@pytest.mark.parametrize(
    "command, table",
    [("extract-faces", verbs.EXTRACT), ("represent", verbs.REPRESENT), ("analyze", verbs.ANALYZE)],
)
def test_each_command_has_a_flag_for_each_command_line_option(command: str, table: Table) -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    dests = {action.dest for action in commands.choices[command]._actions}
    fixed = {"enforce_detection"} if command != "represent" else set()
    assert {option.name for option in table if option.cli} - fixed <= dests


@pytest.mark.parametrize(
    "fields, table",
    [
        (routes.REPRESENT_FIELDS, verbs.REPRESENT),
        (routes.VERIFY_FIELDS, verbs.VERIFY),
        (routes.ANALYZE_FIELDS, verbs.ANALYZE),
        (routes.REGISTER_FIELDS, verbs.REGISTER),
        (routes.SEARCH_FIELDS, verbs.SEARCH),
        (routes.BUILD_INDEX_FIELDS, verbs.BUILD_INDEX),
    ],
)
def test_the_api_fields_are_the_tables_api_options(fields: Dict[str, Any], table: Table) -> None:
    assert set(fields) == {option.name for option in table if option.api}


def test_tables_compose_without_copying() -> None:
    assert verbs.REPRESENT["detector_backend"] is verbs.EXTRACT["detector_backend"]
    assert set(verbs.DETECTION.names) <= set(verbs.ANALYZE.names)
    with pytest.raises(ValueError, match="given twice"):
        verbs.EXTRACT.plus("again", verbs.ALIGN)
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        verbs.EXTRACT.checked({"nope": 1})
