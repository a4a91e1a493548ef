"""Upload -> every rendition, row, notification, through the deployed stack (names from its Outputs)."""

from __future__ import annotations

import io
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from image_pipeline.records import RENDITION_CACHE_CONTROL
from PIL import Image

from tests import images
from tests.e2e.pipeline.conftest import recorded_request_id, renditions_in_bucket

BOX = 256
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def fetch_thumbnail(aws, row: dict) -> tuple[Image.Image, dict]:
    response = aws("s3").get_object(Bucket=row["ThumbnailBucket"], Key=row["ThumbnailKey"])
    data = response["Body"].read()
    image = Image.open(io.BytesIO(data))
    image.load()
    assert len(data) == row["ThumbnailSize"]
    return image, response


@pytest.mark.parametrize(
    ("name", "make", "content_type", "source_format", "thumbnail_format", "source_size"),
    [
        ("photo.jpg", lambda: images.jpeg(1600, 1200), "image/jpeg", "JPEG", "JPEG", (1600, 1200)),
        ("logo.png", lambda: images.png_with_alpha(900, 600), "image/png", "PNG", "PNG", (900, 600)),
        ("picture.webp", lambda: images.webp(640, 960), "image/webp", "WEBP", "JPEG", (640, 960)),
        ("anim.gif", lambda: images.animated_gif(500, 300), "image/gif", "GIF", "JPEG", (500, 300)),
    ],
)
def test_upload_produces_thumbnail_row_and_notification(
    aws,
    stack,
    upload,
    wait_for_row,
    notifications,
    name,
    make,
    content_type,
    source_format,
    thumbnail_format,
    source_size,
):
    uploaded = upload(name, make(), content_type)
    row = wait_for_row(uploaded.image_id)

    thumbnail, response = fetch_thumbnail(aws, row)
    assert thumbnail.format == thumbnail_format
    assert max(thumbnail.size) == BOX and min(thumbnail.size) <= BOX
    assert thumbnail.size == (row["ThumbnailWidth"], row["ThumbnailHeight"])
    expected_short_side = min(source_size) * BOX / max(source_size)
    assert abs(min(thumbnail.size) - expected_short_side) <= 1  # aspect ratio kept within 1 px
    assert response["ContentType"] == ("image/png" if thumbnail_format == "PNG" else "image/jpeg")
    assert response["CacheControl"] == RENDITION_CACHE_CONTROL

    head = aws("s3").head_object(Bucket=stack.uploads_bucket, Key=uploaded.key)
    assert row["ImageID"] == uploaded.image_id
    assert row["SourceBucket"] == stack.uploads_bucket
    assert row["SourceKey"] == uploaded.key
    assert row["SourceSize"] == len(uploaded.data)
    assert row["SourceFormat"] == source_format
    assert row["SourceContentType"] == content_type
    assert row["SourceETag"] == head["ETag"].strip('"')
    assert (row["Width"], row["Height"]) == source_size
    assert row["ThumbnailBucket"] == stack.thumbnails_bucket
    extension = "png" if thumbnail_format == "PNG" else "jpg"
    version = f"{row['SourceETag']}-{''.join(c for c in row['SourceEventTime'] if c.isalnum())}"
    if request_id := recorded_request_id(aws, row):  # the workflow's: EventBridge's whole seconds
        version += f"-{''.join(c for c in request_id if c.isalnum())[:32]}"
    assert row["ThumbnailKey"] == f"renditions/thumbnail/{uploaded.key}/{version}.{extension}"
    assert row["ThumbnailContentType"] == response["ContentType"]
    assert row["Status"] == "PROCESSED"
    assert ISO_UTC.fullmatch(row["CreatedAt"]) and ISO_UTC.fullmatch(row["UpdatedAt"])
    assert_every_rendition(aws, stack, row, source_size)

    message, attributes = notifications.wait_for(uploaded.image_id)
    assert message["Status"] == "PROCESSED"
    for field in ("ImageID", "SourceBucket", "SourceKey", "ThumbnailBucket", "ThumbnailKey"):
        assert message[field] == row[field]
    assert message["Renditions"] == {
        name: {field: entry[field] for field in ("Bucket", "Key", "Width", "Height", "Format")}
        for name, entry in row["Renditions"].items()
    }
    assert attributes["status"]["Value"] == "PROCESSED"


FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF"}


def assert_every_rendition(aws, stack, row: dict, source_size: tuple[int, int]) -> None:
    """The row records each declared rendition, and each object is that image: its format, its
    box (never upscaled, aspect kept), its bytes, its content type, no EXIF."""
    declared = {spec.name: spec for spec in stack.renditions}
    assert set(row["Renditions"]) == set(declared)
    request_id = recorded_request_id(aws, row)  # in the keys of the workflow's renditions
    source_has_alpha = row["ThumbnailContentType"] == "image/png"
    for name, entry in row["Renditions"].items():
        spec = declared[name]
        response = aws("s3").get_object(Bucket=entry["Bucket"], Key=entry["Key"])
        data = response["Body"].read()
        image = Image.open(io.BytesIO(data))
        image.load()
        expected_format = FORMATS.get(spec.format) or ("PNG" if source_has_alpha else "JPEG")
        assert image.format == entry["Format"] == expected_format, name
        assert response["ContentType"] == entry["ContentType"] == Image.MIME[expected_format]
        assert len(data) == entry["Size"] and image.size == (entry["Width"], entry["Height"])
        scale = min(spec.width / source_size[0], spec.height / source_size[1], 1.0)
        assert (
            abs(image.width - source_size[0] * scale) <= 1 and abs(image.height - source_size[1] * scale) <= 1
        )
        assert not image.getexif(), f"{name} carries EXIF"
        version = f"{row['SourceETag']}-{''.join(c for c in row['SourceEventTime'] if c.isalnum())}"
        if request_id:
            version += f"-{''.join(c for c in request_id if c.isalnum())[:32]}"
        extension = entry["Key"].rsplit(".", 1)[1]
        assert entry["Key"] == f"renditions/{name}/{row['SourceKey']}/{version}.{extension}"
    assert row["ThumbnailKey"] == row["Renditions"]["thumbnail"]["Key"]
    assert sorted(entry["Key"] for entry in row["Renditions"].values()) == renditions_in_bucket(
        aws, stack, row["SourceKey"]
    )


@pytest.mark.parametrize(
    "name",
    [
        "with spaces/and more spaces.jpg",
        "ünïcödé/фото/写真 🌅.jpg",
        "deeply/nested/prefix/of/many/levels/x.jpg",
        "a+b=c&d.jpg",
    ],
)
def test_awkward_keys_are_processed(aws, upload, wait_for_row, name):
    uploaded = upload(name, images.jpeg(400, 300))
    row = wait_for_row(uploaded.image_id)
    assert row["SourceKey"] == uploaded.key
    thumbnail, _ = fetch_thumbnail(aws, row)
    assert thumbnail.size == (256, 192)


def test_exif_rotated_photo_comes_out_upright(aws, upload, wait_for_row):
    # Stored landscape 800x400 with the red half on top, orientation 6: upright it is a 400x800
    # portrait whose red half is on the right.
    uploaded = upload("phone-portrait.jpg", images.two_colour_jpeg(800, 400, orientation=6))
    row = wait_for_row(uploaded.image_id)
    assert (row["Width"], row["Height"]) == (400, 800)
    thumbnail, _ = fetch_thumbnail(aws, row)
    assert thumbnail.size == (128, 256)
    right, left = thumbnail.convert("RGB").getpixel((100, 128)), thumbnail.convert("RGB").getpixel((28, 128))
    assert right[0] > 200 and right[2] < 60, right
    assert left[2] > 200 and left[0] < 60, left


def test_twenty_parallel_uploads_are_all_processed(aws, upload, wait_for_row):
    payloads = {f"burst/{number:02}.jpg": images.jpeg(640 + number, 480) for number in range(20)}
    with ThreadPoolExecutor(max_workers=10) as pool:
        uploads = list(pool.map(lambda item: upload(*item), payloads.items()))
    rows = [wait_for_row(uploaded.image_id) for uploaded in uploads]
    assert len({row["ImageID"] for row in rows}) == 20
    for uploaded, row in zip(uploads, rows, strict=True):
        assert row["Status"] == "PROCESSED"
        assert row["Width"] == 640 + int(uploaded.key[-6:-4])
        aws("s3").head_object(Bucket=row["ThumbnailBucket"], Key=row["ThumbnailKey"])


def test_24_megapixel_photo_within_memory_and_timeout(aws, stack, upload, wait_for_row):
    uploaded = upload("huge-24mp.jpg", images.jpeg(6000, 4000, quality=92))
    row = wait_for_row(uploaded.image_id, timeout=90)
    assert (row["Width"], row["Height"]) == (6000, 4000)
    assert (row["ThumbnailWidth"], row["ThumbnailHeight"]) == (256, 171)

    configuration = aws("lambda").get_function_configuration(FunctionName=stack.function_name)
    report = wait_for_report_line(aws, stack.function_name, uploaded.key)
    used_mb = int(re.search(r"Max Memory Used: (\d+) MB", report)[1])
    duration_ms = float(re.search(r"\tDuration: ([\d.]+) ms", report)[1])
    assert used_mb < configuration["MemorySize"]
    assert duration_ms < configuration["Timeout"] * 1000


def wait_for_report_line(aws, function_name: str, source_key: str) -> str:
    """The REPORT line of the invocation that processed source_key."""
    return next(line for line in invocation_log(aws, function_name, source_key) if line.startswith("REPORT"))


def invocation_log(aws, function_name: str, source_key: str, timeout: float = 30) -> list[str]:
    """The log lines of the invocation that processed source_key (found via its structured log),
    once its REPORT line is there."""
    logs = aws("logs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=f"/aws/lambda/{function_name}")
        events = [event for page in pages for event in page["events"]]
        structured = [json.loads(event["message"]) for event in events if event["message"].startswith("{")]
        ids = [line["function_request_id"] for line in structured if line.get("source_key") == source_key]
        # START/END/REPORT name the request id, and so does every structured line.
        mine = [event["message"].strip() for event in events if ids and ids[0] in event["message"]]
        if any(line.startswith("REPORT") for line in mine):
            return mine
        time.sleep(0.2)
    raise AssertionError(f"no REPORT line for the invocation that processed {source_key} within {timeout} s")


@pytest.mark.workflows("direct")
def test_an_upload_logs_where_its_time_went_in_eight_aws_calls(aws, stack, upload, wait_for_row):
    """The "timings" line make bench builds its latency budget from: every AWS call of the upload,
    the stages around them, and the deadline Lambda handed over, on the machine's clock."""
    uploaded = upload("timed.jpg", images.jpeg(1600, 1200))
    wait_for_row(uploaded.image_id)
    lines = invocation_log(aws, stack.function_name, uploaded.key)
    timings = next(json.loads(line) for line in lines if '"message":"timings"' in line)
    report_ms = float(re.search(r"\tDuration: ([\d.]+) ms", lines[-1])[1])

    spans = timings["spans"]
    calls = [name for name, _, _ in spans if "." in name]
    renditions = ["s3.PutObject"] * len(stack.renditions)
    assert calls == [
        "dynamodb.PutItem",  # the idempotency record
        "s3.GetObject",
        *renditions,
        "dynamodb.UpdateItem",  # the row
        "sns.Publish",
        "dynamodb.UpdateItem",  # the idempotency record completed
    ]
    stages = [name for name, _, _ in spans if "." not in name]
    assert stages == ["read", "render", "store", "record", "announce"]
    store = next(span for span in spans if span[0] == "store")
    for name, offset, duration in spans:
        assert offset >= 0 and offset + duration <= timings["elapsed_us"]
        if name == "s3.PutObject":  # the renditions' writes happen inside the store stage
            assert store[1] <= offset and offset + duration <= store[1] + store[2]
    assert timings["elapsed_us"] / 1000 <= report_ms
    # Lambda handed the invocation over shortly before the handler started: deadline - timeout.
    timeout_ms = aws("lambda").get_function_configuration(FunctionName=stack.function_name)["Timeout"] * 1000
    handed_over_ms = timings["deadline_ms"] - timeout_ms
    assert 0 <= timings["started_ns"] / 1e6 - handed_over_ms < 1000


def test_a_source_key_with_dot_dot_segments_gets_safe_rendition_keys(aws, upload, wait_for_row):
    uploaded = upload("../../escape.jpg", images.jpeg(300, 200))
    row = wait_for_row(uploaded.image_id)
    assert row["SourceKey"] == uploaded.key and ".." in row["SourceKey"]
    for name, entry in row["Renditions"].items():
        assert entry["Key"].startswith(f"renditions/{name}/_/") and ".." not in entry["Key"]
    thumbnail, _ = fetch_thumbnail(aws, row)
    assert thumbnail.size == (256, 171)
