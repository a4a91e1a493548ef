"""DynamoDB without DynamoDB Local.

LocalStack's own DynamoDB provider forwards every request to DynamoDB Local, which it downloads
(with a Java runtime) on first use: impossible offline. LocalStack also bundles moto, whose
DynamoDB backend implements the data plane (conditions, updates, queries, scans, pagination,
transactions) in-process. This provider implements no operation itself; every one goes to moto.

moto applies an UpdateItem attribute by attribute to the live item, so a concurrent reader could
see a half-written item, which real DynamoDB never shows. Operations are therefore serialised:
each request sees the table before or after another, never in between.
"""

from __future__ import annotations

import threading

from localstack.aws.api.dynamodb import DynamodbApi
from localstack.aws.skeleton import DispatchTable
from localstack.services.moto import MotoFallbackDispatcher
from localstack.services.plugins import ServiceLifecycleHook


class MotoDynamoDBProvider(DynamodbApi, ServiceLifecycleHook):
    """Every operation falls through to moto's DynamoDB backend."""


def serialised_moto_dispatcher(provider: MotoDynamoDBProvider) -> DispatchTable:
    """MotoFallbackDispatcher with one lock around every operation (atomic items, like DynamoDB)."""
    lock = threading.RLock()
    table = MotoFallbackDispatcher(provider)

    def serialised(handler):
        def call(context, request):
            with lock:
                return handler(context, request)

        return call

    return {operation: serialised(handler) for operation, handler in table.items()}
