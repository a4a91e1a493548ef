"""Print the pipeline's recent CloudWatch logs: the image processor's in direct mode; in
stepfunctions mode the starter's and the workflow steps' (each line names its function), then the
newest executions of the state machine with their status."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

import boto3

from scripts import failures
from scripts.stack import stack_name, stack_outputs

# Output -> the short name a line is prefixed with (when more than one function logs).
FUNCTIONS = {
    "ImageProcessorFunctionName": "processor",
    "StartWorkflowFunctionName": "start",
    "WorkflowStepsFunctionName": "steps",
}


def log_events(logs, log_group: str) -> list[dict]:
    try:
        return [
            event
            for page in logs.get_paginator("filter_log_events").paginate(logGroupName=log_group)
            for event in page["events"]
        ]
    except logs.exceptions.ResourceNotFoundException:
        return []


def clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M:%S.%f")[:-3]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack-name", default=stack_name())
    parser.add_argument("--limit", type=int, default=100, help="how many of the newest events")
    args = parser.parse_args()

    outputs = stack_outputs(args.stack_name)
    workflow = outputs.get("Workflow", "direct")
    names = (
        ["ImageProcessorFunctionName"]
        if workflow == "direct"
        else [
            "StartWorkflowFunctionName",
            "WorkflowStepsFunctionName",
        ]
    )
    logs = boto3.client("logs")
    events = [
        (event["timestamp"], FUNCTIONS[name], event["message"].rstrip())
        for name in names
        for event in log_events(logs, f"/aws/lambda/{outputs[name]}")
    ]
    if not events:
        print(f"No logs yet ({workflow} mode): upload an image first")
    for timestamp, function, message in sorted(events)[-args.limit :]:
        prefix = f"{function:9} " if len(names) > 1 else ""
        print(f"{clock(datetime.fromtimestamp(timestamp / 1000, UTC))}  {prefix}{message}")

    if workflow == "stepfunctions":
        executions = boto3.client("stepfunctions").list_executions(
            stateMachineArn=outputs["StateMachineArn"], maxResults=20
        )["executions"]
        print(f"\nNewest executions of {outputs['StateMachineArn'].rsplit(':', 1)[1]} (make logs shows 20):")
        for execution in sorted(executions, key=lambda item: item["startDate"]):
            ended = execution.get("stopDate")
            took = (
                f"{(ended - execution['startDate']).total_seconds() * 1000:7.0f} ms" if ended else "running"
            )
            print(f"{clock(execution['startDate'])}  {execution['status']:9} {took:>10}  {execution['name']}")
    return 0


if __name__ == "__main__":
    sys.exit(failures.run(main))
