"""Process again what is parked in the dead-letter queue: `make redrive`.

Each message is an asynchronous invocation whose retries were exhausted; its original S3 event is
sent to the function again (synchronously, to see the outcome). A message is deleted once its
event was handled; one that fails again stays in the queue and is reported.
"""

from __future__ import annotations

import json
import sys

import boto3

from scripts import failures
from scripts.stack import stack_outputs


def original_event(body: str) -> dict:
    message = json.loads(body)
    # Lambda's on-failure destination wraps the event; a plain dead-letter queue holds it as it was.
    return message.get("requestPayload", message)


def main() -> int:
    outputs = stack_outputs()
    sqs, lambda_client = boto3.client("sqs"), boto3.client("lambda")
    queue_url, function_name = outputs["DeadLetterQueueUrl"], outputs["ImageProcessorFunctionName"]
    seen: set[str] = set()
    handled = failed = 0
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        fresh = [message for message in messages if message["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            response = lambda_client.invoke(
                FunctionName=function_name, Payload=json.dumps(original_event(message["Body"])).encode()
            )
            result = response["Payload"].read().decode()
            if "FunctionError" in response:
                failed += 1
                print(f"still failing, left in the queue: {result}")
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            handled += 1
            print(f"redriven: {result}")
    print(f"{handled} event(s) redriven, {failed} still failing")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(failures.run(main))
