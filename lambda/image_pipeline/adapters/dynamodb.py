from __future__ import annotations

from botocore.exceptions import ClientError

from image_pipeline.errors import StorageError


class MetadataTable:
    def __init__(self, dynamodb_client, table_name: str) -> None:
        self._dynamodb = dynamodb_client
        self._table_name = table_name

    def save(self, row: dict[str, str | int]) -> None:
        """Create or update the row; CreatedAt keeps its first value."""
        attributes = {name: value for name, value in row.items() if name not in ("ImageID", "CreatedAt")}
        assignments = [f"#{index} = :{index}" for index in range(len(attributes))]
        assignments.append("#created = if_not_exists(#created, :created)")
        names = {f"#{index}": name for index, name in enumerate(attributes)}
        values = {f":{index}": _attribute(value) for index, value in enumerate(attributes.values())}
        try:
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key={"ImageID": {"S": str(row["ImageID"])}},
                UpdateExpression="SET " + ", ".join(assignments),
                ExpressionAttributeNames={**names, "#created": "CreatedAt"},
                ExpressionAttributeValues={**values, ":created": {"S": str(row["CreatedAt"])}},
            )
        except ClientError as error:
            code = error.response["Error"]["Code"]
            raise StorageError(f"saving row {row['ImageID']} failed: {code}") from error


def _attribute(value: str | int) -> dict[str, str]:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"unsupported attribute value {value!r}")
    return {"N": str(value)} if isinstance(value, int) else {"S": value}
