from __future__ import annotations

from botocore.exceptions import ClientError

from image_pipeline.adapters import error_code
from image_pipeline.errors import ConcurrentUpdateError, StorageError
from image_pipeline.records import GALLERY, Row, Status, Value

NEWEST_FIRST_INDEX = "NewestFirst"

# Rows only move forward: a result for an older version of the object never replaces a newer one.
# At the same event time only the same version may write (a retry, RETRYING then its result):
# EventBridge's times have whole seconds, so two versions can share one; the pipeline then asks
# the object which one is current and writes with `_NOT_NEWER` (record(..., current_version=True)).
_NOT_NEWER = "attribute_not_exists(ImageID) OR SourceEventTime <= :event_time"
_OLDER_OR_SAME_VERSION = (
    "attribute_not_exists(ImageID) OR SourceEventTime < :event_time"
    " OR (SourceEventTime = :event_time AND SourceETag = :etag)"
)


def _to_attribute(value: Value) -> dict:
    if isinstance(value, bool) or not isinstance(value, int | float | str | dict):
        raise TypeError(f"unsupported attribute value {value!r}")
    if isinstance(value, dict):
        return {"M": {name: _to_attribute(item) for name, item in value.items()}}
    if isinstance(value, float):
        return {"N": repr(value)}
    return {"N": str(value)} if isinstance(value, int) else {"S": value}


def _from_attribute(value: dict) -> Value:
    if "M" in value:
        return {name: _from_attribute(item) for name, item in value["M"].items()}
    if "N" in value:
        number = value["N"]
        return int(number) if number.lstrip("-").isdigit() else float(number)
    return value["S"]


def _from_item(item: dict[str, dict]) -> Row:
    return {name: _from_attribute(value) for name, value in item.items()}


def _removal_values(removed_at: str) -> dict[str, dict[str, str]]:
    """The values a removal's conditions compare with (:deleting, :deleted, :removed_at)."""
    return {
        ":deleting": {"S": Status.DELETING.value},
        ":deleted": {"S": Status.DELETED.value},
        ":removed_at": {"S": removed_at},
    }


class MetadataTable:
    def __init__(self, dynamodb_client, table_name: str) -> None:
        self._dynamodb = dynamodb_client
        self._table_name = table_name

    def record(self, row: Row, remove: tuple[str, ...] = (), current_version: bool = False) -> Row | None:
        """Create or update the row unless a newer version is recorded; returns the previous row.

        CreatedAt keeps its first value; `remove` drops attributes the new state must not keep.
        Raises ConcurrentUpdateError when the table holds a newer version of the object, or another
        one of the same event time (unless `current_version`: the caller saw that this version is
        the object's current one)."""
        attributes = {name: value for name, value in row.items() if name not in ("ImageID", "CreatedAt")}
        names = {f"#a{index}": name for index, name in enumerate(attributes)}
        values = {f":v{index}": _to_attribute(value) for index, value in enumerate(attributes.values())}
        assignments = [f"#a{index} = :v{index}" for index in range(len(attributes))]
        assignments.append("#created = if_not_exists(#created, :created)")
        expression = "SET " + ", ".join(assignments)
        removals = [name for name in remove if name not in attributes]
        if removals:
            names.update({f"#r{index}": name for index, name in enumerate(removals)})
            expression += " REMOVE " + ", ".join(f"#r{index}" for index in range(len(removals)))
        try:
            response = self._dynamodb.update_item(
                TableName=self._table_name,
                Key={"ImageID": {"S": str(row["ImageID"])}},
                UpdateExpression=expression,
                ConditionExpression=_NOT_NEWER if current_version else _OLDER_OR_SAME_VERSION,
                ExpressionAttributeNames={**names, "#created": "CreatedAt"},
                ExpressionAttributeValues={
                    **values,
                    ":created": {"S": str(row["CreatedAt"])},
                    ":event_time": {"S": str(row["SourceEventTime"])},
                    **({} if current_version else {":etag": {"S": str(row.get("SourceETag", ""))}}),
                },
                ReturnValues="ALL_OLD",
                # The newer row, when there is one: what it points to must be kept.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                newer = error.response.get("Item")
                raise ConcurrentUpdateError(
                    f"row {row['ImageID']} already records a newer version",
                    current=_from_item(newer) if newer else None,
                ) from error
            raise StorageError(f"saving row {row['ImageID']} failed: {error_code(error)}") from error
        previous = response.get("Attributes")
        return _from_item(previous) if previous else None

    def get(self, image_id: str) -> Row | None:
        try:
            item = self._dynamodb.get_item(
                TableName=self._table_name, Key={"ImageID": {"S": image_id}}, ConsistentRead=True
            ).get("Item")
        except ClientError as error:
            raise StorageError(f"reading row {image_id} failed: {error_code(error)}") from error
        return _from_item(item) if item else None

    def newest(
        self, limit: int, start_key: dict[str, dict[str, str]] | None
    ) -> tuple[list[Row], dict[str, dict[str, str]] | None]:
        """A page of rows, newest first (NewestFirst index), and the key to continue from."""
        try:
            response = self._dynamodb.query(
                TableName=self._table_name,
                IndexName=NEWEST_FIRST_INDEX,
                KeyConditionExpression="Gallery = :gallery",
                ExpressionAttributeValues={":gallery": {"S": GALLERY}},
                ScanIndexForward=False,
                Limit=limit,
                **({"ExclusiveStartKey": start_key} if start_key else {}),
            )
        except ClientError as error:
            raise StorageError(f"listing rows failed: {error_code(error)}") from error
        return [_from_item(item) for item in response["Items"]], response.get("LastEvaluatedKey")

    def claim_removal(self, image_id: str, removed_at: str, now: str) -> Row | None:
        """Mark the row DELETING for the removal at `removed_at` (or resume that same removal);
        returns the row as it was, renditions included. None when this removal may delete
        nothing: no row, a deleted one, a newer version, or another removal's claim."""
        try:
            response = self._dynamodb.update_item(
                TableName=self._table_name,
                Key={"ImageID": {"S": image_id}},
                UpdateExpression=(
                    "SET #status = :deleting, SourceEventTime = :removed_at, UpdatedAt = :now "
                    "REMOVE Gallery, DeleteRequestedAt"
                ),
                ConditionExpression=(
                    "attribute_exists(ImageID) AND SourceEventTime <= :removed_at AND #status <> :deleted "
                    "AND (#status <> :deleting OR SourceEventTime = :removed_at)"
                ),
                ExpressionAttributeNames={"#status": "Status"},
                ExpressionAttributeValues={**_removal_values(removed_at), ":now": {"S": now}},
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return None
            raise StorageError(f"claiming row {image_id} for removal failed: {error_code(error)}") from error
        return _from_item(response["Attributes"])

    def bury(self, tombstone: Row) -> bool:
        """Replace the row by a tombstone (it expires by TTL), so that a late event for an older
        version cannot bring the image back; allowed over no row, an older tombstone, or the
        claim of the same removal. False when a newer version holds the row."""
        try:
            self._dynamodb.put_item(
                TableName=self._table_name,
                Item={name: _to_attribute(value) for name, value in tombstone.items()},
                ConditionExpression=(
                    "attribute_not_exists(ImageID) "
                    "OR (#status = :deleted AND SourceEventTime <= :removed_at) "
                    "OR (#status = :deleting AND SourceEventTime = :removed_at)"
                ),
                ExpressionAttributeNames={"#status": "Status"},
                ExpressionAttributeValues=_removal_values(str(tombstone["SourceEventTime"])),
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise StorageError(
                f"recording the removal of {tombstone['ImageID']} failed: {error_code(error)}"
            ) from error
        return True

    def hide(self, row: Row, now: str) -> None:
        """Take the row out of the gallery and GET while its removal is on its way (the original
        is deleted; its S3 event removes the rest). A newer version is left alone."""
        try:
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key={"ImageID": {"S": str(row["ImageID"])}},
                UpdateExpression="SET DeleteRequestedAt = :now REMOVE Gallery",
                ConditionExpression="SourceEventTime = :version",
                ExpressionAttributeValues={
                    ":now": {"S": now},
                    ":version": {"S": str(row["SourceEventTime"])},
                },
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise StorageError(f"hiding row {row['ImageID']} failed: {error_code(error)}") from error
