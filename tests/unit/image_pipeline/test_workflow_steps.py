"""An execution's history, as Step Functions (LocalStack 4.14) recorded it, folded into the steps
that `imgpipe show`, the API and the web page show: retried attempts apart, routing states left out."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from image_pipeline.adapters.workflow import steps_of

HISTORIES = Path(__file__).parent / "histories"


def recorded(name: str) -> list[dict]:
    events = json.loads((HISTORIES / name).read_text())
    return [{**event, "timestamp": datetime.fromisoformat(event["timestamp"])} for event in events]


def test_an_exhausted_publish_shows_each_attempt_then_the_failure():
    steps = steps_of(recorded("exhausted-publish.json"))
    assert [(step.name, step.status) for step in steps] == [
        ("MakeRenditions", "SUCCEEDED"),
        ("RecordRow", "SUCCEEDED"),
        ("Notify", "RETRIED"),
        ("Notify", "RETRIED"),
        ("Notify", "FAILED"),
        ("MarkRetrying", "SUCCEEDED"),
        ("RetriesExhausted", "FAILED"),
    ]
    notify = [step for step in steps if step.name == "Notify"]
    assert all(step.error and step.error.startswith("SNS.NotFoundException") for step in notify)
    # Backoff: each attempt starts at least IntervalSeconds x BackoffRate^n after the previous one.
    starts = [datetime.fromisoformat(step.started) for step in notify]
    assert (starts[1] - starts[0]).total_seconds() >= 1 and (starts[2] - starts[1]).total_seconds() >= 2
    assert all(step.duration_ms is not None and step.duration_ms >= 0 for step in steps[:-1])
    assert steps[-1].duration_ms is None and "publishing to" in (steps[-1].error or "")


def test_a_history_still_running_ends_with_the_running_step():
    events = recorded("exhausted-publish.json")
    entered_notify = next(
        index
        for index, event in enumerate(events)
        if event.get("stateEnteredEventDetails", {}).get("name") == "Notify"
    )
    steps = steps_of(events[: entered_notify + 2])  # entered, scheduled
    assert [(step.name, step.status) for step in steps][-1] == ("Notify", "RUNNING")
    assert steps[-1].duration_ms is None


def test_a_task_that_fails_the_execution_ends_failed_not_retried():
    """A task without a Catch whose last attempt fails: the execution fails right there."""
    events = recorded("exhausted-publish.json")
    last_attempt = max(index for index, event in enumerate(events) if event["type"] == "TaskFailed")
    failed = {"type": "ExecutionFailed", "timestamp": events[last_attempt]["timestamp"], "id": 999}
    failed["executionFailedEventDetails"] = {"error": "SNS.NotFoundException", "cause": "gone"}
    steps = steps_of([*events[: last_attempt + 1], failed])
    assert [(step.name, step.status) for step in steps][-3:] == [
        ("Notify", "RETRIED"),
        ("Notify", "RETRIED"),
        ("Notify", "FAILED"),
    ]
