"""imgpipe — upload photos to the image pipeline and manage the gallery.

Works against the local emulator by default; --aws (or --profile) targets the stack on AWS.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import webbrowser
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from requests import RequestException
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from imgpipe.client import CONTENT_TYPES, ApiError, PipelineClient, find_target

console = Console()
errors = Console(stderr=True)


def image_files(paths: list[str]) -> list[Path]:
    """The files named, and the image files (by extension) inside the directories named."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in CONTENT_TYPES)
            )
        elif path.is_file():
            found.append(path)
        else:
            raise SystemExit(f"imgpipe: {name}: no such file or directory")
    return found


def upload_one(client: PipelineClient, path: Path, progress: Progress) -> dict:
    task = progress.add_task(path.name, total=path.stat().st_size)
    try:
        image_id = client.upload(path, lambda sent: progress.advance(task, sent))
        progress.update(task, description=f"{path.name} (processing)")
        item = client.wait_until_final(image_id)
        progress.update(task, description=f"{path.name} ({item['Status'].lower()})")
        return {"file": str(path), "imageId": image_id, **item}
    except (ApiError, RequestException, OSError) as error:
        progress.update(task, description=f"{path.name} (error)")
        return {"file": str(path), "Status": "ERROR", "ErrorMessage": str(error)}


def command_upload(client: PipelineClient, args: argparse.Namespace) -> int:
    files = image_files(args.paths)
    if not files:
        errors.print("imgpipe: no image files to upload")
        return 2
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with (
        Progress(*columns, console=errors, disable=args.json or not errors.is_terminal) as progress,
        ThreadPoolExecutor(max_workers=args.concurrency) as pool,
    ):
        results = list(pool.map(lambda path: upload_one(client, path, progress), files))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        table = Table("file", "status", "thumbnail", "image id / reason")
        for result in results:
            thumbnail = (
                f"{result['ThumbnailWidth']}x{result['ThumbnailHeight']}, {result['ThumbnailSize']:,} B"
                if result["Status"] == "PROCESSED"
                else ""
            )
            detail = (
                result["imageId"]
                if result["Status"] == "PROCESSED"
                else f"{result.get('ErrorCode', '')} {result.get('ErrorMessage', '')}".strip()
            )
            style = "green" if result["Status"] == "PROCESSED" else "red"
            table.add_row(result["file"], f"[{style}]{result['Status']}[/]", thumbnail, detail)
        console.print(table)
    return 0 if all(result["Status"] == "PROCESSED" for result in results) else 1


def command_ls(client: PipelineClient, args: argparse.Namespace) -> int:
    items = list(client.images(limit=args.limit))
    if args.json:
        print(json.dumps(items, indent=2))
        return 0
    table = Table("image id", "status", "source key", "size", "created")
    for item in items:
        size = f"{item['Width']}x{item['Height']}" if "Width" in item else item.get("ErrorCode", "")
        table.add_row(item["ImageID"], item["Status"], item["SourceKey"], size, item["CreatedAt"])
    console.print(table)
    return 0


def command_show(client: PipelineClient, args: argparse.Namespace) -> int:
    item = client.get(args.image_id)
    if args.json:
        print(json.dumps(item, indent=2))
        return 0
    table = Table("attribute", "value", show_header=False)
    for name, value in item.items():
        if name != "Urls":
            table.add_row(name, str(value))
    table.add_row("original", item["Urls"]["Original"])
    table.add_row("thumbnail", str(item["Urls"]["Thumbnail"]))
    console.print(table)
    return 0


def command_rm(client: PipelineClient, args: argparse.Namespace) -> int:
    failed = 0
    results = []
    for image_id in args.image_ids:
        try:
            client.delete(image_id)
            results.append({"imageId": image_id, "deleted": True})
        except ApiError as error:
            failed += 1
            results.append(
                {"imageId": image_id, "deleted": False, "error": error.code, "message": error.message}
            )
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for result in results:
            console.print(
                f"deleted {result['imageId']}"
                if result["deleted"]
                else f"[red]{result['imageId']}: {result['message']}"
            )
    return 1 if failed else 0


def command_open(client: PipelineClient, args: argparse.Namespace, web_url: str) -> int:
    print(json.dumps({"url": web_url}) if args.json else web_url)
    webbrowser.open(web_url)
    return 0


def common_options(suppress_defaults: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the command; after it, unset ones must not reset them."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress_defaults else value

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--stack-name", default=default(os.environ.get("STACK_NAME") or "image-pipeline"))
    common.add_argument(
        "--aws",
        action="store_true",
        default=default(False),
        help="use the stack on AWS (default: the emulator)",
    )
    common.add_argument("--profile", default=default(None), help="AWS profile (implies --aws)")
    common.add_argument("--region", default=default(None), help="AWS region (default: the profile's)")
    common.add_argument("--json", action="store_true", default=default(False), help="machine-readable output")
    return common


def parser() -> argparse.ArgumentParser:
    common = common_options(suppress_defaults=True)
    root = argparse.ArgumentParser(
        prog="imgpipe", description=__doc__, parents=[common_options(suppress_defaults=False)]
    )
    commands = root.add_subparsers(dest="command", required=True)
    upload = commands.add_parser(
        "upload", parents=[common], help="upload files or directories, wait for processing, print the results"
    )
    upload.add_argument("paths", nargs="+", metavar="FILE|DIR")
    upload.add_argument("--concurrency", type=int, default=4, help="uploads at once (default 4)")
    ls = commands.add_parser("ls", parents=[common], help="list images, newest first")
    ls.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    show = commands.add_parser("show", parents=[common], help="one image's metadata and links")
    show.add_argument("image_id", metavar="ID")
    rm = commands.add_parser("rm", parents=[common], help="delete images (original, thumbnail and row)")
    rm.add_argument("image_ids", nargs="+", metavar="ID")
    commands.add_parser("open", parents=[common], help="open the web page")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        target = find_target(args.stack_name, args.aws, args.profile, args.region)
    except (BotoCoreError, ClientError) as error:
        errors.print(f"imgpipe: cannot find the stack {args.stack_name!r}: {error} (is `make up` running?)")
        return 2
    client = PipelineClient(target.api_url)
    try:
        if args.command == "open":
            return command_open(client, args, target.web_url)
        return {"upload": command_upload, "ls": command_ls, "show": command_show, "rm": command_rm}[
            args.command
        ](client, args)
    except ApiError as error:
        if args.json:
            print(json.dumps({"error": {"code": error.code, "message": error.message}}))
        else:
            errors.print(f"imgpipe: {error.message}")
        return 1
    except RequestException as error:
        errors.print(f"imgpipe: cannot reach the API at {target.api_url}: {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
