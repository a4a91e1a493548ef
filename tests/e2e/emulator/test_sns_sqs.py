"""SNS delivers to SQS subscriptions in the emulator, with message attributes."""

from __future__ import annotations

import json


def test_sns_message_is_delivered_to_a_subscribed_queue(aws, unique_name: str):
    sns, sqs = aws("sns"), aws("sqs")
    topic_arn = sns.create_topic(Name=unique_name)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=unique_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sqs.set_queue_attributes(
        QueueUrl=queue_url,
        Attributes={
            "Policy": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "sns.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": queue_arn,
                            "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
                        }
                    ],
                }
            )
        },
    )
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)

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
