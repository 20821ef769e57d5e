"""API errors in AWX/DRF shapes.  Raised anywhere below the web layer; rendered by it."""
from __future__ import annotations

from typing import Any


class APIError(Exception):
    """An error with an HTTP status and a JSON body."""

    status = 400

    def __init__(self, body: Any = None, status: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        if status is not None:
            self.status = status
        self.body = body if body is not None else {"detail": self.default_detail}
        self.headers = headers or {}
        super().__init__(str(self.body))

    default_detail = "A server error occurred."


class ValidationError(APIError):
    """400 with a field-keyed body: ``{"field": ["message"]}``."""

    status = 400

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(errors)


class ParseError(APIError):
    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__({"detail": detail})


class NotAuthenticated(APIError):
    status = 401
    default_detail = ("Authentication credentials were not provided. "
                      "To establish a login session, visit /api/login/.")

    def __init__(self, detail: str | None = None) -> None:
        super().__init__({"detail": detail or self.default_detail},
                         headers={"WWW-Authenticate":
                                  "Bearer realm=api authorization_url=/api/o/authorize/"})


class PermissionDenied(APIError):
    status = 403
    default_detail = "You do not have permission to perform this action."

    def __init__(self, detail: str | None = None) -> None:
        super().__init__({"detail": detail or self.default_detail})


class NotFound(APIError):
    status = 404
    default_detail = "Not found."

    def __init__(self, detail: str | None = None) -> None:
        super().__init__({"detail": detail or self.default_detail})


class MethodNotAllowed(APIError):
    status = 405

    def __init__(self, method: str) -> None:
        super().__init__({"detail": f'Method "{method}" not allowed.'})


class Conflict(APIError):
    status = 409


class Throttled(APIError):
    status = 429

    def __init__(self, wait: int) -> None:
        super().__init__({"detail": f"Request was throttled. Expected available in {wait} seconds."},
                         headers={"Retry-After": str(wait)})


def explain(exc: Exception) -> str:
    """An error as one line of text (a job explanation): an :class:`APIError` with a dict body
    gives its messages by field (``field: message; message``, without the key for ``detail``
    and ``__all__``, fields joined by `` | ``); anything else gives ``str(exc)``."""
    body = getattr(exc, "body", None)
    if not isinstance(body, dict):
        return str(exc)
    parts = []
    for key, value in body.items():
        text = "; ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        parts.append(text if key in ("detail", "__all__") else f"{key}: {text}")
    return " | ".join(parts)
