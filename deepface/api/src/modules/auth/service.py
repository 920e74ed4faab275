"""Optional bearer-token authentication, as deepface's API does it (``DEEPFACE_AUTH_TOKEN``)."""

import hmac
from typing import Mapping, Optional

from deepface.commons.logger import get_logger

logger = get_logger(__name__)


class AuthService:
    """Checks ``Authorization: Bearer <token>``; every request passes when no token is set."""

    def __init__(self, auth_token: Optional[str] = None) -> None:
        self.auth_token = auth_token
        self.is_auth_enabled = bool(auth_token)

    @staticmethod
    def extract_token(auth_header: Optional[str]) -> Optional[str]:
        """The token of a ``Bearer <token>`` header, else None."""
        parts = (auth_header or "").split()
        if len(parts) == 2 and parts[0].lower() == "bearer":
            return parts[1]
        return None

    def validate(self, headers: Mapping[str, str]) -> bool:
        """True when authentication is off or the request carries the configured token."""
        if not self.is_auth_enabled:
            return True
        token = self.extract_token(headers.get("Authorization"))
        if token is None:
            logger.debug("request without a bearer token refused")
            return False
        # compared in constant time: the comparison's duration reveals nothing of the token
        return hmac.compare_digest(token.encode("utf-8"), str(self.auth_token).encode("utf-8"))
