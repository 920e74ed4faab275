"""``python -m deepface.cli``: the ``deepface`` command."""

import sys

from deepface.cli import main

sys.exit(main())
