"""DynamoDB without DynamoDB Local.

LocalStack's own DynamoDB provider forwards every request to DynamoDB Local, which it downloads
(with a Java runtime) on first use: impossible offline. LocalStack also bundles moto, whose
DynamoDB backend implements the data plane (conditions, updates, queries, scans, pagination,
transactions) in-process. This provider implements no operation itself; the MotoFallbackDispatcher
it is registered with sends each one to moto.
"""

from localstack.aws.api.dynamodb import DynamodbApi
from localstack.services.plugins import ServiceLifecycleHook


class MotoDynamoDBProvider(DynamodbApi, ServiceLifecycleHook):
    """Every operation falls through to moto's DynamoDB backend."""
