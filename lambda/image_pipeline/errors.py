"""The pipeline's own exceptions and error codes; adapters translate AWS errors into these."""

from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable codes in FAILED/RETRYING rows (documented in the README's failure table)."""

    EMPTY_OBJECT = "EMPTY_OBJECT"
    NOT_AN_IMAGE = "NOT_AN_IMAGE"
    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"
    CORRUPT_IMAGE = "CORRUPT_IMAGE"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
    OBJECT_TOO_LARGE = "OBJECT_TOO_LARGE"
    SERVICE_ERROR = "SERVICE_ERROR"


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""


class CodedError(PipelineError):
    """An error that carries a stable code for machines and a message for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ImageRejectedError(CodedError):
    """The upload can never become an image: a permanent, user-visible failure."""

    code: ErrorCode


class SourceObjectMissingError(PipelineError):
    """The uploaded object is gone (deleted before we read it)."""


class SourceObjectChangedError(PipelineError):
    """The object now has other content than the event announced: a newer event covers it."""


class ConcurrentUpdateError(PipelineError):
    """A newer version of the image was recorded meanwhile; this result is stale."""

    def __init__(self, message: str, current: dict | None = None) -> None:
        super().__init__(message)
        self.current = current  # the newer row, when the table said


class ShareNotFoundError(PipelineError):
    """No share link with that token (HTTP 404)."""


class ShareGoneError(PipelineError):
    """The share link expired or was revoked (HTTP 410)."""


class StorageError(PipelineError):
    """S3, DynamoDB or SNS refused or failed a request; worth retrying."""


class InvalidRequestError(CodedError):
    """A request to the API that can never succeed as sent (HTTP 400)."""


class ImageNotFoundError(PipelineError):
    """No image with that id (HTTP 404)."""
