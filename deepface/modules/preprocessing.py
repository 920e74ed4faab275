"""deepface's ``deepface.modules.preprocessing``: faces resized with black padding and
normalised for a model. The helpers live in :mod:`deepface.commons.preprocessing`, below
both the models and the modules that use them; this module keeps deepface's import path."""

from deepface.commons.preprocessing import (
    CHANNEL_MEANS,
    NORMALIZATIONS,
    check_normalization,
    normalize_input,
    resize_image,
)

__all__ = ["CHANNEL_MEANS", "NORMALIZATIONS", "check_normalization", "normalize_input", "resize_image"]
