"""DynamoDB without DynamoDB Local.

LocalStack's own DynamoDB provider forwards every request to DynamoDB Local, which it downloads
(with a Java runtime) on first use: impossible offline. LocalStack also bundles moto, whose
DynamoDB backend implements the data plane (conditions, updates, queries, scans, pagination,
transactions) in-process. This provider implements no operation itself; every one goes to moto.

moto applies an UpdateItem attribute by attribute to the live item, so a concurrent reader could
see a half-written item, which real DynamoDB never shows. Operations are therefore serialised:
each request sees the table before or after another, never in between.

moto's UpdateItem costs ~0.6 ms per assignment (the pipeline's new row, 22 of them: 14 ms in
process, against 0.7 ms for a small PutItem); `lighten_update_expressions` takes out what does no
work for the result (make bench: the latency budget's row write line).
"""

from __future__ import annotations

import functools
import threading
from collections import Counter

from localstack.aws.api.dynamodb import DynamodbApi
from localstack.aws.skeleton import DispatchTable
from localstack.services.moto import MotoFallbackDispatcher
from localstack.services.plugins import ServiceLifecycleHook
from moto.dynamodb.parsing.ast_nodes import (
    DepthFirstTraverser,
    Expression,
    Node,
    UpdateExpression,
    UpdateExpressionAddClause,
    UpdateExpressionFunction,
    UpdateExpressionRemoveClause,
    UpdateExpressionSetClause,
)
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from moto.dynamodb.parsing.validators import ActionCountValidator


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


def lighten_update_expressions() -> None:
    """Three changes to moto's UpdateItem that refuse, answer and compute exactly what it did, in
    half the time (the pipeline's new row, 22 assignments, in process: 14.0 -> 8.7 ms for the first
    and third, -> 7.7 ms with the second).

    * "One SET, REMOVE and ADD section at most" was checked at every node of the expression's tree
      by counting that node's whole subtree, and the tree nests one node per action: quadratic.
      Counting once, bottom up, finds the same node (the deepest with a repeated section), where
      moto's own check then raises its own error.
    * Each of the ten passes over the tree rebuilt, at every node, the tuple of node types it works
      on; those types are fixed per pass (`_processing_map`'s keys), so they are kept.
    * The parsed expression is kept per expression text (a writer sends the same text again and
      again, only the values change). moto only reads a parsed tree, or deep-copies it before
      working on it (validators.Validator), so a kept tree is never changed.
    """
    if getattr(ActionCountValidator.traverse, "lightened", False):
        return  # already done in this process
    sections = (UpdateExpressionAddClause, UpdateExpressionRemoveClause, UpdateExpressionSetClause)

    def check_counting_once(self: ActionCountValidator, node: Node) -> Node:
        def visit(node: Node) -> Counter:
            # As moto's Node.find_clauses counts: sections among the children, and within
            # expressions and functions below them; visited after the children, as moto's pass.
            counts: Counter = Counter()
            for child in node.children or []:
                if not isinstance(child, Node):
                    continue
                below = visit(child)
                if type(child) in sections:
                    counts[type(child)] += 1
                elif isinstance(child, Expression | UpdateExpressionFunction):
                    counts.update(below)
            if isinstance(node, UpdateExpression) and any(count > 1 for count in counts.values()):
                self.verify_action_counts(node)  # raises moto's error for this node
            return counts

        visit(node)
        return node

    check_counting_once.lightened = True
    ActionCountValidator.traverse = check_counting_once

    kinds_of_pass: dict[type, tuple[type, ...]] = {}

    def nodes_to_be_processed(self: DepthFirstTraverser) -> tuple[type, ...]:
        kinds = kinds_of_pass.get(type(self))
        if kinds is None:
            kinds = kinds_of_pass[type(self)] = tuple(self._processing_map())
        return kinds

    DepthFirstTraverser.nodes_to_be_processed = nodes_to_be_processed
    parse = UpdateExpressionParser.make.__func__
    UpdateExpressionParser.make = classmethod(functools.lru_cache(maxsize=256)(parse))
