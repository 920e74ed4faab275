"""Scale-out on Ray Data: the package's extraction and embedding jobs over a cluster.

``extract_faces_dataset``, ``represent_dataset`` and ``analyze_dataset`` take a ``ray.data.Dataset`` of paths,
encoded bytes or images and return one of faces, computed by a fixed-size pool of actors
that build their models once and run the package's batched pipeline; the output batches
have fixed Arrow schemas (``schemas``), so ``write_parquet`` gives a folder that plain
pyarrow reads back. Needs the ``ray`` extra: ``pip install 'deepface[ray]'``.
See ``docs/ray.md``.
"""

from deepface.ray.actors import BatchLayout, FaceAnalyzer, FaceExtractor, FaceRepresenter
from deepface.ray.datasets import analyze_dataset, extract_faces_dataset, represent_dataset
from deepface.ray.resources import ResourcePlan, ResourcePlanError
from deepface.ray.schemas import analysis_schema, extraction_schema, representation_schema

__all__ = [
    "BatchLayout",
    "FaceAnalyzer",
    "FaceExtractor",
    "FaceRepresenter",
    "ResourcePlan",
    "ResourcePlanError",
    "analysis_schema",
    "analyze_dataset",
    "extract_faces_dataset",
    "extraction_schema",
    "represent_dataset",
    "representation_schema",
]
