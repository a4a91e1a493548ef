"""Print the image processor function's recent CloudWatch logs (the stack's function)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

import boto3

from scripts import failures
from scripts.stack import stack_name, stack_outputs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack-name", default=stack_name())
    parser.add_argument("--limit", type=int, default=100, help="how many of the newest events")
    args = parser.parse_args()

    outputs = stack_outputs(args.stack_name)
    log_group = f"/aws/lambda/{outputs['ImageProcessorFunctionName']}"
    logs = boto3.client("logs")
    events = []
    try:
        for page in logs.get_paginator("filter_log_events").paginate(logGroupName=log_group):
            events.extend(page["events"])
    except logs.exceptions.ResourceNotFoundException:
        print(f"No logs yet in {log_group}: upload an image first")
        return 0
    for event in sorted(events, key=lambda event: event["timestamp"])[-args.limit :]:
        timestamp = datetime.fromtimestamp(event["timestamp"] / 1000, UTC).strftime("%H:%M:%S.%f")[:-3]
        print(f"{timestamp}  {event['message'].rstrip()}")
    return 0


if __name__ == "__main__":
    sys.exit(failures.run(main))
