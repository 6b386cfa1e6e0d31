"""The one error type of the platform: a broken rule with a stable code, a Vietnamese message, a status."""

from typing import Any


class ServiceError(Exception):
    """A service refused: `code` is stable (tests, logs, API), `message` is for the person.

    Raised inside a unit of work it rolls the transaction back. Routers catch it to show
    their form again with the input kept; anything they let through is rendered by the
    app's handler as a page (or an htmx fragment) with `status`."""

    def __init__(self, code: str, message: str, status: int = 422, *,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers or {}

    def __repr__(self) -> str:  # the code only: messages may quote what a person typed
        return f"{type(self).__name__}({self.code!r}, status={self.status})"


class FormErrors(ServiceError):
    """Input that cannot be accepted, field by field: field name → Vietnamese message."""

    def __init__(self, errors: dict[Any, str], message: str = "Vui lòng xem lại các ô được đánh dấu.",
                 code: str = "invalid_input") -> None:
        super().__init__(code, message, 422)
        self.errors = dict(errors)

    def __bool__(self) -> bool:
        return bool(self.errors)


class NotFound(ServiceError):
    """The object does not exist or is not the caller's to see: the same answer either way."""

    def __init__(self, code: str = "not_found",
                 message: str = "Trang bạn tìm không có hoặc đã được chuyển đi.") -> None:
        super().__init__(code, message, 404)
