"""Step Functions: starting the pipeline's workflow, and reading an execution's steps back."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime

from botocore.exceptions import ClientError

from image_pipeline.adapters import error_code
from image_pipeline.changes import Change
from image_pipeline.errors import StorageError


@dataclass(frozen=True)
class Step:
    """One state the execution entered: what a person asks of it (did it run, how long, why not)."""

    name: str
    status: str  # SUCCEEDED, FAILED, RETRIED (an attempt that failed and was tried again), RUNNING
    started: str  # ISO 8601
    duration_ms: int | None  # None while it runs
    error: str | None = None

    def as_dict(self) -> dict[str, str | int | None]:
        return {
            "name": self.name,
            "status": self.status,
            "started": self.started,
            "durationMs": self.duration_ms,
            "error": self.error,
        }


class Executions:
    def __init__(self, stepfunctions_client, state_machine_arn: str = "") -> None:
        self._sfn = stepfunctions_client
        self._state_machine_arn = state_machine_arn

    def start(self, name: str, change: Change) -> bool:
        """Start one execution for the change. False when one of that name has ended (a duplicate
        event: a STANDARD execution's name is taken for 90 days); a duplicate of one still running
        is the same request to Step Functions (same name, same input), which returns that
        execution and starts none: True, as for the first delivery."""
        try:
            self._sfn.start_execution(
                stateMachineArn=self._state_machine_arn, name=name, input=json.dumps(change)
            )
        except ClientError as error:
            if error_code(error) == "ExecutionAlreadyExists":
                return False
            raise StorageError(f"starting execution {name} failed: {error_code(error)}") from error
        return True

    def steps(self, execution_arn: str) -> tuple[str, list[Step]]:
        """The execution's status and its steps in order, from its history."""
        try:
            status = self._sfn.describe_execution(executionArn=execution_arn)["status"]
            events = [
                event
                for page in self._sfn.get_paginator("get_execution_history").paginate(
                    executionArn=execution_arn, includeExecutionData=False
                )
                for event in page["events"]
            ]
        except ClientError as error:
            if error_code(error) == "ExecutionDoesNotExist":
                return "EXPIRED", []  # executions' histories are kept for 90 days
            if error_code(error) in ("AccessDeniedException", "StateMachineDoesNotExist"):
                return "UNAVAILABLE", []  # the stack left stepfunctions mode: its history is gone
            raise StorageError(f"reading execution {execution_arn} failed: {error_code(error)}") from error
        return status, steps_of(events)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def steps_of(events: list[dict]) -> list[Step]:
    """Fold an execution history into steps: a state's entry, its task's failed attempts (retries)
    and its exit. Pass and Choice states are routing, not work: left out."""
    steps: list[Step] = []
    current: dict | None = None
    attempt_started: datetime | None = None
    for event in events:
        kind = event["type"]
        if kind.endswith("StateEntered") and not kind.startswith(("Pass", "Choice", "Succeed")):
            current = {"name": event["stateEnteredEventDetails"]["name"], "entered": event["timestamp"]}
            attempt_started = event["timestamp"]
        elif current is None:
            continue
        elif kind.endswith(("Failed", "TimedOut")) and not kind.endswith("StateFailed"):
            details = next((value for name, value in event.items() if name.endswith("EventDetails")), {})
            if kind.startswith("Execution"):
                current["error"] = _error_text(details)
                continue
            assert attempt_started is not None
            steps.append(
                Step(
                    current["name"],
                    "RETRIED",
                    _iso(attempt_started),
                    _milliseconds(attempt_started, event["timestamp"]),
                    _error_text(details),
                )
            )
            current["failed"] = _error_text(details)
        elif kind.endswith("Scheduled"):
            attempt_started = event["timestamp"]
        elif kind.endswith("Succeeded") and "Execution" not in kind:
            current.pop("failed", None)
        elif kind.endswith("StateExited"):
            assert attempt_started is not None
            failed = current.pop("failed", None)
            if failed is not None:
                steps.pop()  # the last attempt's failure is the step's outcome, not a retry
            steps.append(
                Step(
                    current["name"],
                    "FAILED" if failed else "SUCCEEDED",
                    _iso(attempt_started),
                    _milliseconds(attempt_started, event["timestamp"]),
                    failed,
                )
            )
            current = None
    if current is not None and current.get("failed") is not None:
        # The execution failed in this task (no Catch): its last attempt's failure is the outcome.
        steps[-1] = replace(steps[-1], status="FAILED")
    elif current is not None:  # a Fail state, or a step still running
        status = "FAILED" if "error" in current else "RUNNING"
        steps.append(Step(current["name"], status, _iso(current["entered"]), None, current.get("error")))
    return steps


def _milliseconds(start: datetime, end: datetime) -> int:
    return round((end - start).total_seconds() * 1000)


def _error_text(details: dict) -> str:
    return ": ".join(part for part in (details.get("error"), _short_cause(details.get("cause"))) if part)


def lambda_error_message(cause: str) -> str | None:
    """A Lambda task's failure reaches Step Functions with its JSON (errorMessage, errorType,
    stackTrace) as the cause: its message; None for any other cause (a service integration's)."""
    parsed = _json_or_none(cause)
    return str(parsed["errorMessage"]) if isinstance(parsed, dict) and "errorMessage" in parsed else None


def _short_cause(cause: str | None) -> str | None:
    """The cause in words: a Lambda error's message. The steps' ImageRejected carries the FAILED
    row as its message: its ErrorCode and ErrorMessage."""
    if not cause:
        return None
    message = lambda_error_message(cause)
    if message is None:
        return cause[:300]
    row = _json_or_none(message)
    if isinstance(row, dict) and "ErrorCode" in row:
        return f"{row['ErrorCode']}: {row.get('ErrorMessage', '')}"[:300]
    return message[:300]


def _json_or_none(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None
