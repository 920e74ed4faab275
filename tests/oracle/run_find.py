"""Upstream deepface's ``find`` and its datastore files, driven by the tests.

Run it in its own process with upstream deepface first on PYTHONPATH, from a working
directory outside the checkout:

    PYTHONPATH=.oracle python tests/oracle/run_find.py serialize FORMAT ROWS.json OUT
    PYTHONPATH=.oracle python tests/oracle/run_find.py load FORMAT DATASTORE OUT.json
    PYTHONPATH=.oracle python tests/oracle/run_find.py many JOBS.json
    PYTHONPATH=.oracle DEEPFACE_HOME=DIR python tests/oracle/run_find.py find REQUEST.json OUT.json

``serialize`` writes rows (identity, hash, embedding or null, target_x/y/w/h) with
deepface's own serializer; ``load`` reads a datastore file with deepface's own loader;
``find`` runs ``DeepFace.find`` once per query of the request and writes each result
with its column names, dtypes and every value's Python type. ``many`` runs a JSON list of
``[command, arg, ...]`` jobs in this one process (deepface imported once, not per job).
"""

import json
import sys
from typing import Any, Dict, List

import numpy as np


def _recognition() -> Any:
    from deepface.modules import recognition

    return recognition


def serialize(datastore_format: str, rows_file: str, out_file: str) -> None:
    recognition = _recognition()
    with open(rows_file, encoding="utf-8") as handle:
        rows = json.load(handle)
    if datastore_format == "npz":
        content = getattr(recognition, "__serialize_npz")(rows)
    else:
        content = getattr(recognition, "__serialize_arrow")(rows, datastore_format)
    with open(out_file, "wb") as handle:
        handle.write(content)


def load(datastore_format: str, datastore: str, out_file: str) -> None:
    from deepface.modules.filestore import LocalFileStore

    import os

    store = LocalFileStore(os.path.dirname(datastore))
    rows = getattr(_recognition(), "__load_representations")(store, datastore, datastore_format)
    with open(out_file, "w", encoding="utf-8") as handle:
        json.dump(rows, handle)


def _typed(value: Any) -> List[Any]:
    """[Python type name, JSON-able value]."""
    plain = value.item() if isinstance(value, np.generic) else value
    return [type(value).__name__, plain]


def _frame(frame: Any) -> Dict[str, Any]:
    return {
        "columns": list(frame.columns),
        "dtypes": [str(dtype) for dtype in frame.dtypes],
        "rows": [{key: _typed(value) for key, value in row.items()} for row in frame.to_dict("records")],
    }


def find(request_file: str, out_file: str) -> None:
    import torch  # noqa: F401  (torch and torchvision before TensorFlow, or the process crashes)
    import torchvision  # noqa: F401
    from deepface import DeepFace

    with open(request_file, encoding="utf-8") as handle:
        request = json.load(handle)
    answers = []
    for query in request["queries"]:
        kwargs = dict(request["common"], **query)
        result = DeepFace.find(**kwargs)
        if kwargs.get("return_type") == "dict":
            answers.append([[{key: _typed(value) for key, value in row.items()} for row in face] for face in result])
        else:
            answers.append([_frame(frame) for frame in result])
    with open(out_file, "w", encoding="utf-8") as handle:
        json.dump({"deepface_file": DeepFace.__file__, "answers": answers}, handle)


COMMANDS = {"serialize": serialize, "load": load, "find": find}


def many(jobs_file: str) -> None:
    with open(jobs_file, encoding="utf-8") as handle:
        jobs = json.load(handle)
    for command, *args in jobs:
        COMMANDS[command](*args)


if __name__ == "__main__":
    {**COMMANDS, "many": many}[sys.argv[1]](*sys.argv[2:])
