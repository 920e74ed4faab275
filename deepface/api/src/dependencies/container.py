"""The services one application shares between its requests."""

from deepface.api.src.dependencies.variables import Variables
from deepface.api.src.modules.auth.service import AuthService
from deepface.api.src.modules.core.sources import SourcePolicy
from deepface.api.src.modules.models.service import ModelService


class Container:
    """Settings plus the services built from them (one per application)."""

    def __init__(self, variables: Variables) -> None:
        self.variables = variables
        self.auth_service = AuthService(auth_token=variables.auth_token)
        self.model_service = ModelService(
            face_recognition_models=variables.face_recognition_models,
            face_detection_models=variables.face_detection_models,
        )
        self.source_policy = SourcePolicy.create(variables.allow_paths, variables.allow_urls)
