"""``python -m deepface.cli``: the ``deepface`` command."""

import sys

from deepface.cli import console

sys.exit(console())
