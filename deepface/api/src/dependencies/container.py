"""The services one application shares between its requests."""

from typing import Any, Optional

from deepface.api.src.dependencies.serving import HttpSettings, LoadSettings
from deepface.api.src.dependencies.variables import Variables
from deepface.api.src.modules.auth.service import AuthService
from deepface.api.src.modules.core.scheduler import Scheduler
from deepface.api.src.modules.core.sources import SourcePolicy
from deepface.api.src.modules.models.service import ModelService


class Container:
    """Settings plus the services built from them (one per application or gRPC server)."""

    def __init__(
        self,
        variables: Variables,
        settings: Optional[HttpSettings] = None,
        load: Optional[LoadSettings] = None,
        metrics: Any = None,
    ) -> None:
        self.variables = variables
        self.settings = settings or HttpSettings()
        self.load = load or LoadSettings()
        self.metrics = metrics
        self.scheduler = Scheduler(self.load, metrics)
        self.auth_service = AuthService(auth_token=variables.auth_token)
        self.model_service = ModelService(
            face_recognition_models=variables.face_recognition_models,
            face_detection_models=variables.face_detection_models,
        )
        self.source_policy = SourcePolicy.create(variables.allow_paths, variables.allow_urls)
