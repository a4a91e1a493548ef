from __future__ import annotations

from botocore.exceptions import ClientError

from image_pipeline.adapters import error_code
from image_pipeline.errors import StorageError
from image_pipeline.sharing import Share


class ShareTable:
    """One item per share link (partition key Token); `Expiration` is the table's TTL attribute."""

    def __init__(self, dynamodb_client, table_name: str) -> None:
        self._dynamodb = dynamodb_client
        self._table_name = table_name

    def create(self, share: Share) -> None:
        try:
            self._dynamodb.put_item(
                TableName=self._table_name,
                Item={
                    "Token": {"S": share.token},
                    "ImageID": {"S": share.image_id},
                    "SourceETag": {"S": share.source_etag},
                    "CreatedAt": {"S": share.created_at},
                    "ExpiresAt": {"S": share.expires_at},
                    "Expiration": {"N": str(share.expires_epoch)},
                },
                ConditionExpression="attribute_not_exists(#token)",  # 192 random bits; still, never reuse
                ExpressionAttributeNames={"#token": "Token"},
            )
        except ClientError as error:
            raise StorageError(f"saving a share of {share.image_id} failed: {error_code(error)}") from error

    def get(self, token: str) -> Share | None:
        try:
            item = self._dynamodb.get_item(
                TableName=self._table_name, Key={"Token": {"S": token}}, ConsistentRead=True
            ).get("Item")
        except ClientError as error:
            raise StorageError(f"reading a share failed: {error_code(error)}") from error
        if not item:
            return None
        return Share(
            token=item["Token"]["S"],
            image_id=item["ImageID"]["S"],
            source_etag=item["SourceETag"]["S"],
            created_at=item["CreatedAt"]["S"],
            expires_at=item["ExpiresAt"]["S"],
            expires_epoch=int(item["Expiration"]["N"]),
            revoked_at=item.get("RevokedAt", {}).get("S"),
        )

    def revoke(self, image_id: str, token: str, now: str) -> bool:
        """Mark the image's share revoked (kept until its TTL, so opening it says 410, not 404);
        False when the image has no such share."""
        try:
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key={"Token": {"S": token}},
                UpdateExpression="SET RevokedAt = if_not_exists(RevokedAt, :now)",
                ConditionExpression="ImageID = :image_id",
                ExpressionAttributeValues={":now": {"S": now}, ":image_id": {"S": image_id}},
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise StorageError(f"revoking a share of {image_id} failed: {error_code(error)}") from error
        return True
