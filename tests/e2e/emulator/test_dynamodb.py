"""DynamoDB in the emulator (host mode: LocalStack's bundled moto, no DynamoDB Local download)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError


@pytest.fixture
def table(unique_name: str, emulator: str) -> Iterator:
    dynamodb = boto3.resource(
        "dynamodb",
        endpoint_url=emulator,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    table = dynamodb.create_table(
        TableName=unique_name,
        KeySchema=[
            {"AttributeName": "Album", "KeyType": "HASH"},
            {"AttributeName": "ImageID", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "Album", "AttributeType": "S"},
            {"AttributeName": "ImageID", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    table.wait_until_exists()
    yield table
    table.delete()


def test_table_is_created_active_and_listed(aws, table):
    description = aws("dynamodb").describe_table(TableName=table.name)["Table"]
    assert description["TableStatus"] == "ACTIVE"
    assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table.name in aws("dynamodb").list_tables()["TableNames"]


def test_put_and_get_keep_types(table):
    item = {
        "Album": "holiday",
        "ImageID": "img-1",
        "Width": 4000,
        "Ratio": Decimal("1.5"),
        "Tags": {"beach", "sun"},
        "Exif": {"Orientation": 6, "Camera": "X100"},
        "Processed": True,
    }
    table.put_item(Item=item)
    stored = table.get_item(Key={"Album": "holiday", "ImageID": "img-1"}, ConsistentRead=True)["Item"]
    assert stored == item
    assert isinstance(stored["Width"], Decimal)  # numbers stay numbers


def test_conditional_put_refuses_a_second_write(table):
    table.put_item(
        Item={"Album": "a", "ImageID": "1", "Status": "NEW"}, ConditionExpression=Attr("ImageID").not_exists()
    )
    with pytest.raises(ClientError) as raised:
        table.put_item(
            Item={"Album": "a", "ImageID": "1", "Status": "DUPLICATE"},
            ConditionExpression=Attr("ImageID").not_exists(),
        )
    assert raised.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert table.get_item(Key={"Album": "a", "ImageID": "1"})["Item"]["Status"] == "NEW"


def test_update_with_condition_and_counters(table):
    key = {"Album": "a", "ImageID": "2"}
    table.put_item(Item={**key, "Status": "PENDING", "Attempts": 0})
    updated = table.update_item(
        Key=key,
        UpdateExpression="SET #s = :done ADD Attempts :one",
        ConditionExpression="#s = :pending",
        ExpressionAttributeNames={"#s": "Status"},
        ExpressionAttributeValues={":done": "PROCESSED", ":pending": "PENDING", ":one": 1},
        ReturnValues="ALL_NEW",
    )["Attributes"]
    assert updated == {**key, "Status": "PROCESSED", "Attempts": 1}

    with pytest.raises(ClientError) as raised:
        table.update_item(
            Key=key,
            UpdateExpression="SET #s = :done",
            ConditionExpression="#s = :pending",
            ExpressionAttributeNames={"#s": "Status"},
            ExpressionAttributeValues={":done": "PROCESSED", ":pending": "PENDING"},
        )
    assert raised.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_query_by_partition_and_sort_key_prefix(table):
    with table.batch_writer() as batch:
        for album, image in [
            ("trip", "2026-01-a"),
            ("trip", "2026-02-b"),
            ("trip", "2025-12-c"),
            ("home", "2026-01-d"),
        ]:
            batch.put_item(Item={"Album": album, "ImageID": image})
    found = table.query(
        KeyConditionExpression=Key("Album").eq("trip") & Key("ImageID").begins_with("2026-"),
        ScanIndexForward=False,
    )["Items"]
    assert [item["ImageID"] for item in found] == ["2026-02-b", "2026-01-a"]


def test_scan_paginates_through_every_item(table):
    with table.batch_writer() as batch:
        for number in range(37):
            batch.put_item(
                Item={"Album": f"album-{number % 5}", "ImageID": f"img-{number:02}", "Size": number}
            )

    seen, pages, start_key = [], 0, None
    while True:
        page = table.scan(Limit=10, **({"ExclusiveStartKey": start_key} if start_key else {}))
        pages += 1
        seen.extend(item["ImageID"] for item in page["Items"])
        start_key = page.get("LastEvaluatedKey")
        if not start_key:
            break
    assert pages >= 4
    assert sorted(seen) == [f"img-{number:02}" for number in range(37)]

    filtered = table.scan(FilterExpression=Attr("Size").gte(30))["Items"]
    assert sorted(int(item["Size"]) for item in filtered) == list(range(30, 37))


def test_readers_never_see_a_half_written_item(aws, table):
    """DynamoDB applies an UpdateItem atomically: a concurrent GetItem sees all of it or nothing.
    (moto alone inserts the bare key first, then sets attributes one by one.)"""
    client = aws("dynamodb")
    attributes = {f"A{index}": {"N": str(index)} for index in range(100)}
    expression = "SET " + ", ".join(f"#{name} = :{name}" for name in attributes)
    names = {f"#{name}": name for name in attributes}
    values = {f":{name}": value for name, value in attributes.items()}
    being_written: list[dict] = [{"Album": {"S": "atomic"}, "ImageID": {"S": "none-yet"}}]
    torn: list[dict] = []
    done = threading.Event()

    def read_what_is_being_written() -> None:
        while not done.is_set():
            item = client.get_item(TableName=table.name, Key=being_written[-1]).get("Item")
            if item and len(item) != len(attributes) + 2:
                torn.append(item)

    reader = threading.Thread(target=read_what_is_being_written)
    reader.start()
    try:
        for number in range(80):
            key = {"Album": {"S": "atomic"}, "ImageID": {"S": f"img-{number}"}}
            being_written.append(key)
            client.update_item(
                TableName=table.name,
                Key=key,
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
    finally:
        done.set()
        reader.join()
    assert not torn, f"{len(torn)} half-written items seen, e.g. {torn[0]}"


@pytest.mark.parametrize(
    ("expression", "section"),
    [
        ("SET Title = :a SET Width = :b", "SET"),
        ("REMOVE Title REMOVE Width", "REMOVE"),
        ("ADD Width :b ADD Height :b", "ADD"),
        ("SET Title = :a REMOVE Stale SET Width = :b", "SET"),  # the second SET after another section
        # Two sections repeated: the one named is the one moto names (SET here, REMOVE below).
        ("REMOVE Stale SET Title = :a REMOVE Pixels SET Width = :b", "SET"),
        ("ADD Width :b REMOVE Stale ADD Height :b REMOVE Pixels", "REMOVE"),
    ],
)
def test_an_update_with_a_section_twice_is_refused(aws, table, expression, section):
    """DynamoDB allows each of SET, REMOVE, ADD once per update expression; host mode counts the
    sections once instead of at every node, and must refuse what moto refused, with its words."""
    key = {"Album": {"S": "sections"}, "ImageID": {"S": "1"}}
    aws("dynamodb").put_item(TableName=table.name, Item={**key, "Title": {"S": "OLD"}})
    values = {":a": {"S": "NEW"}, ":b": {"N": "1"}}
    used = {name: value for name, value in values.items() if name in expression}
    with pytest.raises(ClientError) as raised:
        aws("dynamodb").update_item(
            TableName=table.name,
            Key=key,
            UpdateExpression=expression,
            **({"ExpressionAttributeValues": used} if used else {}),
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert raised.value.response["Error"]["Message"] == (
        f'Invalid UpdateExpression: The "{section}" section can only be used once in an update expression;'
    )
    item = aws("dynamodb").get_item(TableName=table.name, Key=key, ConsistentRead=True)["Item"]
    assert item == {**key, "Title": {"S": "OLD"}}


def test_one_update_expression_many_times_applies_each_requests_values(aws, table):
    """A writer sends the same expression text with other values (the pipeline's row write): every
    item gets its own values, keeps what if_not_exists keeps, and drops what REMOVE names, whether
    it is new or not (host mode keeps the parsed expression per text)."""
    client = aws("dynamodb")
    expression = "SET #s = :status, Width = :width, Created = if_not_exists(Created, :now) REMOVE Stale"
    for round_ in range(2):  # the first round creates the items, the second updates them
        for number in range(5):
            client.update_item(
                TableName=table.name,
                Key={"Album": {"S": "same"}, "ImageID": {"S": str(number)}},
                UpdateExpression=expression,
                ExpressionAttributeNames={"#s": "Status"},
                ExpressionAttributeValues={
                    ":status": {"S": f"round-{round_}"},
                    ":width": {"N": str(100 * number + round_)},
                    ":now": {"S": f"created-in-round-{round_}"},
                },
            )
            if round_ == 0:
                client.update_item(
                    TableName=table.name,
                    Key={"Album": {"S": "same"}, "ImageID": {"S": str(number)}},
                    UpdateExpression="SET Stale = :x",
                    ExpressionAttributeValues={":x": {"S": "to be removed"}},
                )
    items = table.query(KeyConditionExpression=Key("Album").eq("same"), ConsistentRead=True)["Items"]
    assert sorted(items, key=lambda item: item["ImageID"]) == [
        {
            "Album": "same",
            "ImageID": str(number),
            "Status": "round-1",
            "Width": 100 * number + 1,
            "Created": "created-in-round-0",
        }
        for number in range(5)
    ]
