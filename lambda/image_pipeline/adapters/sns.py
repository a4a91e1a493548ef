from __future__ import annotations

import json

from botocore.exceptions import ClientError

from image_pipeline.adapters import error_code
from image_pipeline.errors import StorageError


class Notifier:
    def __init__(self, sns_client, topic_arn: str) -> None:
        self._sns = sns_client
        self._topic_arn = topic_arn

    def announce(self, message: dict[str, str | int]) -> str:
        """Publish the message with its status as a message attribute (for subscription filters)."""
        try:
            response = self._sns.publish(
                TopicArn=self._topic_arn,
                Message=json.dumps(message),
                MessageAttributes={"status": {"DataType": "String", "StringValue": str(message["Status"])}},
            )
        except ClientError as error:
            raise StorageError(f"publishing to {self._topic_arn} failed: {error_code(error)}") from error
        return response["MessageId"]
