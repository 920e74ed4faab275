"""Where the package lives on disk."""

import os

SRC_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the deepface package
ROOT_DIR = os.path.dirname(SRC_DIR)  # the folder that holds it
