"""The services one application shares between its requests."""

from typing import Optional

from deepface.api.src.dependencies.serving import HttpSettings
from deepface.api.src.dependencies.variables import Variables
from deepface.api.src.modules.auth.service import AuthService
from deepface.api.src.modules.core.sources import SourcePolicy
from deepface.api.src.modules.models.service import ModelService


class Container:
    """Settings plus the services built from them (one per application or gRPC server)."""

    def __init__(self, variables: Variables, settings: Optional[HttpSettings] = None) -> None:
        self.variables = variables
        self.settings = settings or HttpSettings()
        self.auth_service = AuthService(auth_token=variables.auth_token)
        self.model_service = ModelService(
            face_recognition_models=variables.face_recognition_models,
            face_detection_models=variables.face_detection_models,
        )
        self.source_policy = SourcePolicy.create(variables.allow_paths, variables.allow_urls)
