"""Face recognition models, one file a family; each loads deepface's own weight files."""
