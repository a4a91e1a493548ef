"""The pipeline's own exceptions; adapters translate AWS errors into these."""


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""


class SourceObjectMissingError(PipelineError):
    """The uploaded object is gone (deleted or overwritten before we read it)."""


class StorageError(PipelineError):
    """S3, DynamoDB or SNS refused or failed a request; worth retrying."""
