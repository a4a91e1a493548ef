"""A burst of mixed valid and invalid uploads: every upload ends as exactly one row, nothing lost."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from tests import images
from tests.e2e.pipeline.conftest import get_row

UPLOADS = 60
VALID_MAKERS = (
    lambda n: ("jpg", images.jpeg(640 + n, 480)),
    lambda n: ("png", images.png_with_alpha(300 + n, 200)),
    lambda n: ("webp", images.webp(400 + n, 300)),
    lambda n: ("gif", images.animated_gif(200 + n, 150)),
)
INVALID_MAKERS = (
    lambda n: ("jpg", images.TEXT + str(n).encode()),
    lambda n: ("jpg", images.jpeg(500, 400)[: 400 + n]),
    lambda n: ("png", b""),
)


def test_burst_of_mixed_uploads_ends_with_one_row_each_and_nothing_lost(aws, stack, upload):
    payloads = {}
    for number in range(UPLOADS):
        makers = INVALID_MAKERS if number % 4 == 3 else VALID_MAKERS  # one in four is invalid
        extension, data = makers[number % len(makers)](number)
        payloads[f"burst/{number:03}.{extension}"] = data
    expected_failed = sum(1 for number in range(UPLOADS) if number % 4 == 3)

    with ThreadPoolExecutor(max_workers=12) as pool:
        uploads = list(pool.map(lambda item: upload(*item), payloads.items()))

    deadline = time.monotonic() + 120
    rows: dict[str, dict] = {}
    while len(rows) < UPLOADS and time.monotonic() < deadline:
        for uploaded in uploads:
            if uploaded.image_id in rows:
                continue
            row = get_row(aws, stack, uploaded.image_id)
            if row and row["Status"] in ("PROCESSED", "FAILED"):
                rows[uploaded.image_id] = row
        time.sleep(0.2)

    missing = [uploaded.key for uploaded in uploads if uploaded.image_id not in rows]
    assert not missing, f"{len(missing)} uploads never reached a final state: {missing[:5]}"
    statuses = Counter(row["Status"] for row in rows.values())
    assert statuses == {"PROCESSED": UPLOADS - expected_failed, "FAILED": expected_failed}

    # Every rendition of every processed upload, and nothing else (none for failed ones).
    folder = uploads[0].key.rsplit("/", 2)[0]
    written = [
        item["Key"]
        for spec in stack.renditions
        for page in aws("s3")
        .get_paginator("list_objects_v2")
        .paginate(Bucket=stack.thumbnails_bucket, Prefix=f"renditions/{spec.name}/{folder}/")
        for item in page.get("Contents", [])
    ]
    assert len(written) == statuses["PROCESSED"] * len(stack.renditions)
    assert sorted(written) == sorted(
        entry["Key"]
        for row in rows.values()
        if row["Status"] == "PROCESSED"
        for entry in row["Renditions"].values()
    )
