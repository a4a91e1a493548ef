"""Community LocalStack keeps no state across restarts: `make down && make up` gives an empty,
working pipeline, and `make save` / `make load` carry the data across."""

from __future__ import annotations

import io
import subprocess
import uuid
from pathlib import Path

import pytest
import requests
from image_pipeline.records import image_id
from PIL import Image

from tests import images
from tests.e2e.conftest import EMULATOR_SCRIPT, REPO_ROOT, stack_outputs
from tests.e2e.pipeline.conftest import get_row, read_stack
from tests.e2e.pipeline.test_reliability import wait_until


def make(*arguments: str) -> None:
    subprocess.run(["make", "--no-print-directory", "-C", str(REPO_ROOT), *arguments], check=True)


@pytest.mark.workflows("direct")  # the emulator's own stack, restarted (the other mode's is redeployed after)
def test_restart_gives_an_empty_pipeline_and_save_load_carries_the_data(aws, api, api_url, tmp_path: Path):
    stack = read_stack(aws)
    prefix = f"e2e/restart-{uuid.uuid4().hex[:8]}"
    objects = {f"{prefix}/photo.jpg": images.jpeg(800, 600), f"{prefix}/notes.jpg": images.TEXT}
    for key, data in objects.items():
        aws("s3").put_object(Bucket=stack.uploads_bucket, Key=key, Body=data, ContentType="image/jpeg")
    ids = {key: image_id(stack.uploads_bucket, key) for key in objects}
    before = {
        key: wait_until(lambda key=key: get_row(aws, stack, ids[key]), what=f"row for {key}")
        for key in objects
    }
    assert [before[key]["Status"] for key in objects] == ["PROCESSED", "FAILED"]
    share = api.post(f"{api_url}/images/{ids[f'{prefix}/photo.jpg']}/share").json()
    api_id = stack_outputs(aws)["ApiId"]

    make("save", f"DIR={tmp_path}")
    subprocess.run([str(EMULATOR_SCRIPT), "down"], check=True)
    make("up")

    stack = read_stack(aws)
    assert stack_outputs(aws)["ApiId"] == api_id  # saved API URLs and share links keep working
    assert requests.get(share["url"]).status_code == 404  # nothing yet: an empty pipeline
    assert aws("s3").list_objects_v2(Bucket=stack.uploads_bucket)["KeyCount"] == 0
    assert aws("dynamodb").scan(TableName=stack.table)["Count"] == 0

    make("load", f"DIR={tmp_path}")
    try:
        for key in objects:
            row = wait_until(
                lambda key=key: (
                    (row := get_row(aws, stack, ids[key]))
                    and row["UpdatedAt"] > before[key]["UpdatedAt"]
                    and row
                ),
                what=f"{key} processed again after load",
            )
            assert row["Status"] == before[key]["Status"]
            assert row["CreatedAt"] == before[key]["CreatedAt"]
            assert row["SourceETag"] == before[key]["SourceETag"]
        photo = get_row(aws, stack, ids[f"{prefix}/photo.jpg"])
        data = aws("s3").get_object(Bucket=photo["ThumbnailBucket"], Key=photo["ThumbnailKey"])["Body"].read()
        assert Image.open(io.BytesIO(data)).size == (256, 192)
        proof = requests.get(share["url"])  # the link sent before the restart
        assert proof.status_code == 200 and Image.open(io.BytesIO(proof.content)).size == (800, 600)
    finally:
        for key in objects:
            aws("s3").delete_object(Bucket=stack.uploads_bucket, Key=key)
