"""Upstream deepface's file store and datastore loader over a remote folder (S3 or FTP).

    PYTHONPATH=.oracle python tests/oracle/run_filestore.py DB_PATH DATASTORE_NAME FORMAT

Prints ``ORACLE-JSON`` and: where deepface puts the datastore (``join``), the images it
lists, each image's fingerprint, and the identities of the datastore's rows as deepface's
own loader reads them. The AWS_* / DEEPFACE_FTP_* variables come from the environment.
"""

import json
import sys

from deepface.modules import recognition
from deepface.modules.filestore import build_file_store


def main() -> None:
    db_path, datastore_name, datastore_format = sys.argv[1:4]
    store = build_file_store(db_path)
    datastore = store.join(datastore_name)
    images = sorted(store.list_images())
    rows = getattr(recognition, "__load_representations")(store, datastore, datastore_format)
    print("ORACLE-JSON " + json.dumps({
        "datastore": datastore,
        "images": images,
        "hashes": {image: store.find_hash(image) for image in images},
        "rows": sorted(row["identity"] for row in rows),
    }))


if __name__ == "__main__":
    main()
