"""SNS delivers to SQS subscriptions in the emulator, with message attributes."""

from __future__ import annotations

import json

from tests.e2e.messaging import subscribe_new_queue


def test_sns_message_is_delivered_to_a_subscribed_queue(aws, unique_name: str):
    sns, sqs = aws("sns"), aws("sqs")
    topic_arn = sns.create_topic(Name=unique_name)["TopicArn"]
    queue_url, _ = subscribe_new_queue(sqs, sns, topic_arn, unique_name)

    message = {"ImageID": "abc", "Status": "PROCESSED"}
    sns.publish(
        TopicArn=topic_arn,
        Message=json.dumps(message),
        MessageAttributes={"status": {"DataType": "String", "StringValue": "PROCESSED"}},
    )

    received = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=10, MaxNumberOfMessages=1)["Messages"]
    envelope = json.loads(received[0]["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == topic_arn
    assert json.loads(envelope["Message"]) == message
    assert envelope["MessageAttributes"]["status"] == {"Type": "String", "Value": "PROCESSED"}

    sqs.delete_queue(QueueUrl=queue_url)
    sns.delete_topic(TopicArn=topic_arn)
