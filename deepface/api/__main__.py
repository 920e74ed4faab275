"""``python -m deepface.api``: serve the REST API with gunicorn (same options as ``deepface serve``)."""

import sys

from deepface.api.launcher import main

if __name__ == "__main__":
    sys.exit(main())
