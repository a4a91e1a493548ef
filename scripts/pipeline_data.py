"""Save the pipeline's data to a folder and load it back: `make save` / `make load`.

Community LocalStack keeps nothing across restarts. `save` writes the uploads, the renditions,
the metadata rows and the share links to a folder; `load` puts rows, links and renditions back,
then the uploads (which the pipeline processes again: rows keep their CreatedAt, renditions come
out the same).
Object keys are stored in a manifest, never used as file paths.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import boto3

from scripts import failures
from scripts.stack import stack_outputs

BUCKETS = {"uploads": "UploadsBucketName", "thumbnails": "ThumbnailsBucketName"}
# Rows, and the proof links sent to clients (the API's id is stable, so the links work again).
TABLES = {"rows": "ImageMetadataTableName", "shares": "SharesTableName"}


def save(folder: Path) -> None:
    outputs = stack_outputs()
    s3, dynamodb = boto3.client("s3"), boto3.client("dynamodb")
    folder.mkdir(parents=True, exist_ok=True)
    for role, output in BUCKETS.items():
        bucket, manifest = outputs[output], []
        (folder / role).mkdir(exist_ok=True)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                response = s3.get_object(Bucket=bucket, Key=item["Key"])
                file_name = f"{len(manifest):06}.bin"
                (folder / role / file_name).write_bytes(response["Body"].read())
                manifest.append(
                    {
                        "key": item["Key"],
                        "file": file_name,
                        "content_type": response.get("ContentType", ""),
                        "cache_control": response.get("CacheControl", ""),
                    }
                )
        (folder / f"{role}.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
        print(f"saved {len(manifest)} object(s) from {bucket}")
    for name, output in TABLES.items():
        items = [
            item
            for page in dynamodb.get_paginator("scan").paginate(TableName=outputs[output])
            for item in page["Items"]
        ]
        (folder / f"{name}.json").write_text(json.dumps(items, indent=1, ensure_ascii=False))
        print(f"saved {len(items)} {name} to {folder}")


def load(folder: Path) -> None:
    outputs = stack_outputs()
    s3, dynamodb = boto3.client("s3"), boto3.client("dynamodb")
    for name, output in TABLES.items():
        saved = folder / f"{name}.json"
        items = json.loads(saved.read_text()) if saved.exists() else []  # older saves have no shares
        for item in items:
            dynamodb.put_item(TableName=outputs[output], Item=item)
        print(f"loaded {len(items)} {name}")
    # Renditions before uploads: an upload triggers processing, which expects its renditions' row.
    for role in ("thumbnails", "uploads"):
        bucket = outputs[BUCKETS[role]]
        manifest = json.loads((folder / f"{role}.json").read_text())
        for entry in manifest:
            extra = {"CacheControl": entry["cache_control"]} if entry["cache_control"] else {}
            s3.put_object(
                Bucket=bucket,
                Key=entry["key"],
                Body=(folder / role / entry["file"]).read_bytes(),
                ContentType=entry["content_type"] or "binary/octet-stream",
                **extra,
            )
        print(f"loaded {len(manifest)} object(s) into {bucket}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["save", "load"])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    if args.command == "save":
        save(args.folder)
    else:
        if not (args.folder / "rows.json").exists():
            parser.error(f"{args.folder} holds no saved data (run make save first)")
        load(args.folder)
    return 0


if __name__ == "__main__":
    sys.exit(failures.run(main))
