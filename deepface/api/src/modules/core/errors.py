"""The API's client errors: each names the request field that was wrong."""

from typing import Any, Dict


class RequestError(ValueError):
    """A request field is missing, of the wrong type, or refused (a 4xx answer).

    Attributes:
        field: the field's name, with the list index for an item (``img[2]``).
        status: the HTTP status to answer with.
    """

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        self.field = field
        self.status = status
        super().__init__(f"{field}: {message}")

    def body(self) -> Dict[str, Any]:
        """The JSON answer: the message (naming the field) and the field itself."""
        return {"error": str(self), "field": self.field}
