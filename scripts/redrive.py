"""Process again what failed for good: `make redrive`.

Both modes: each message in the dead-letter queue is an asynchronous invocation whose retries were
exhausted (direct mode: the image processor's S3 event; stepfunctions mode: the starter's
EventBridge event); its event is sent to the function it was for again (synchronously, to see
the outcome). A message is deleted once its event was handled; one that fails again stays.

Stepfunctions mode: every execution whose retries were exhausted (FAILED, not yet redriven with
success) starts again with its original input, as `<name>-redrive-<n>`, and is waited for.
"""

from __future__ import annotations

import json
import re
import sys
import time

import boto3

from scripts import failures
from scripts.stack import stack_outputs

EXECUTION_TIMEOUT_SECONDS = 120
_REDRIVE_SUFFIX = re.compile(r"-redrive-(\d+)$")
MAX_EXECUTION_NAME = 80  # Step Functions' limit


def redrive_name(name: str, attempt: int) -> str:
    """The name of the `attempt`-th restart of a failed execution (a name is never reused)."""
    return f"{name[: MAX_EXECUTION_NAME - 12]}-redrive-{attempt}"


def original_event(body: str) -> dict:
    message = json.loads(body)
    # Lambda's on-failure destination wraps the event; a plain dead-letter queue holds it as it was.
    return message.get("requestPayload", message)


def target_function(body: str, default: str) -> str:
    """The function an on-failure record was for (its ARN names it); else the stack's processor."""
    arn = json.loads(body).get("requestContext", {}).get("functionArn", "")
    return arn.split(":")[6] if arn.count(":") >= 6 else default


def redrive_dead_letters(outputs: dict[str, str]) -> tuple[int, int]:
    sqs, lambda_client = boto3.client("sqs"), boto3.client("lambda")
    queue_url = outputs["DeadLetterQueueUrl"]
    seen: set[str] = set()
    handled = failed = 0
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        fresh = [message for message in messages if message["MessageId"] not in seen]
        if not fresh:
            return handled, failed
        for message in fresh:
            seen.add(message["MessageId"])
            function = target_function(message["Body"], outputs["ImageProcessorFunctionName"])
            try:
                response = lambda_client.invoke(
                    FunctionName=function, Payload=json.dumps(original_event(message["Body"])).encode()
                )
            except lambda_client.exceptions.ResourceNotFoundException:
                failed += 1  # e.g. the starter, after the stack switched back to direct mode
                print(f"still failing, left in the queue: function {function} no longer exists")
                continue
            result = response["Payload"].read().decode()
            if "FunctionError" in response:
                failed += 1
                print(f"still failing, left in the queue: {result}")
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            handled += 1
            print(f"redriven: {result}")


def latest_attempts(sfn, state_machine_arn: str) -> dict[str, dict]:
    """The newest attempt of every execution (an original and its redrives share a base name)."""
    newest: dict[str, tuple[int, dict]] = {}
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn):
        for execution in page["executions"]:
            match = _REDRIVE_SUFFIX.search(execution["name"])
            base = execution["name"][: match.start()] if match else execution["name"]
            attempt = int(match[1]) if match else 0
            if base not in newest or attempt > newest[base][0]:
                newest[base] = (attempt, execution)
    return {base: {**execution, "attempt": attempt} for base, (attempt, execution) in newest.items()}


def redrive_executions(state_machine_arn: str) -> tuple[int, int]:
    sfn = boto3.client("stepfunctions")
    failed_ones = {
        base: execution
        for base, execution in latest_attempts(sfn, state_machine_arn).items()
        if execution["status"] in ("FAILED", "TIMED_OUT", "ABORTED")
    }
    started = []
    for base, execution in sorted(failed_ones.items()):
        original = sfn.describe_execution(executionArn=execution["executionArn"])
        name = redrive_name(base, execution["attempt"] + 1)
        started.append(
            sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=original["input"])[
                "executionArn"
            ]
        )
    handled = failed = 0
    for execution_arn in started:
        deadline = time.monotonic() + EXECUTION_TIMEOUT_SECONDS
        while (result := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        name = execution_arn.rsplit(":", 1)[1]
        if result["status"] == "SUCCEEDED":
            handled += 1
            print(f"redriven: {name}: {result.get('output', '')}")
        else:
            failed += 1
            why = f"{result.get('error', '')}: {result.get('cause', '')}"
            print(f"still failing: {name}: {result['status']} {why}")
    return handled, failed


def main() -> int:
    outputs = stack_outputs()
    handled, failed = redrive_dead_letters(outputs)
    if outputs.get("Workflow") == "stepfunctions":
        more_handled, more_failed = redrive_executions(outputs["StateMachineArn"])
        handled, failed = handled + more_handled, failed + more_failed
    print(f"{handled} event(s) redriven, {failed} still failing")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(failures.run(main))
