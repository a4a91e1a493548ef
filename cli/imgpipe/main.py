"""imgpipe — upload photos to the image pipeline and manage the gallery.

Works against the local emulator by default; --aws (or --profile) targets the stack on AWS.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from requests import RequestException
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TransferSpeedColumn
from rich.table import Column, Table
from rich.text import Text

from imgpipe import describe, failures
from imgpipe.client import (
    CONTENT_TYPES,
    ApiError,
    PipelineClient,
    StackTooOldError,
    cloudformation_client,
    find_target,
)
from imgpipe.settings import emulator_endpoint, emulator_setting

console = Console()
errors = Console(stderr=True)
# Terminals at least this wide get the tables' optional columns (at 80 they would squeeze the rest).
WIDE = 110


def complain(message: str) -> None:
    """An error in one line on stderr, as written (no wrapping at the terminal's width, no markup)."""
    errors.print(f"imgpipe: {message}", soft_wrap=True, markup=False, highlight=False)


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


def shown_path(path: Path) -> str:
    """A path as the user would type it from here: relative when it is below the working directory."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def md5_of(path: Path) -> str:
    """S3's ETag of a file uploaded in one part (what the API's SourceETag says)."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def already_there(client: PipelineClient, files: list[Path]) -> dict[Path, dict]:
    """The files whose content the pipeline already has processed (same bytes, any name), with that
    image. A failed one is uploaded again: whatever made it fail may have changed."""
    by_etag = {
        item["SourceETag"].strip('"'): item
        for item in client.images()
        if "SourceETag" in item and item["Status"] == "PROCESSED"
    }
    return {path: by_etag[etag] for path in files if (etag := md5_of(path)) in by_etag}


def upload_one(
    client: PipelineClient, path: Path, progress: Progress, overall: TaskID, finished: Callable[[], None]
) -> dict:
    task = progress.add_task(path.name, total=path.stat().st_size, state="uploading")

    def sent(count: int) -> None:
        progress.advance(task, count)
        progress.advance(overall, count)

    try:
        image_id = client.upload(path, sent)
        progress.update(task, state="processing")
        item = client.wait_until_final(image_id)
        return {"file": shown_path(path), "imageId": image_id, **item}
    except (ApiError, RequestException, OSError) as error:
        return {"file": shown_path(path), "Status": "ERROR", "ErrorMessage": str(error)}
    finally:
        progress.remove_task(task)  # finished files leave the screen; the table after says how
        finished()


def command_upload(client: PipelineClient, args: argparse.Namespace) -> int:
    started = time.monotonic()
    files = image_files(args.paths)
    if not files:
        complain("no image files to upload")
        return 2
    skip_existing = args.skip_existing
    if skip_existing is None:  # by default for directories: uploading a folder again is safe
        skip_existing = any(Path(name).is_dir() for name in args.paths)
    skipped = already_there(client, files) if skip_existing else {}
    to_upload = [path for path in files if path not in skipped]
    # One line per file at any width: the name gives way (the table after it says it whole).
    columns = (
        TextColumn("{task.description}", table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1)),
        BarColumn(bar_width=20),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[state]}", table_column=Column(no_wrap=True, width=16)),
    )
    with (
        Progress(
            *columns, console=errors, expand=True, disable=args.json or not errors.is_terminal
        ) as progress,
        ThreadPoolExecutor(max_workers=args.concurrency) as pool,
    ):
        overall = progress.add_task(
            "all files", total=sum(path.stat().st_size for path in to_upload), state=f"0/{len(to_upload)}"
        )
        done, lock = [0], threading.Lock()

        def finished() -> None:
            with lock:
                done[0] += 1
                progress.update(overall, state=f"{done[0]}/{len(to_upload)}")

        results = list(
            pool.map(lambda path: upload_one(client, path, progress, overall, finished), to_upload)
        )
    results += [
        {"file": shown_path(path), "imageId": item["ImageID"], "skipped": True, **item}
        for path, item in skipped.items()
    ]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_upload_results(results)
        errors.print(upload_summary(results, time.monotonic() - started), highlight=False)
    return 0 if all(result["Status"] == "PROCESSED" for result in results) else 1


def upload_summary(results: list[dict], seconds: float) -> str:
    """'3 uploaded (2 processed, 1 failed), 5 already there, in 4.2 s'."""
    uploaded = [result for result in results if not result.get("skipped")]
    processed = sum(result["Status"] == "PROCESSED" for result in uploaded)
    failed = len(uploaded) - processed
    skipped = len(results) - len(uploaded)
    if not uploaded:
        return f"nothing new: all {skipped} already there ({seconds:.1f} s)"
    parts = [f"{len(uploaded)} uploaded ({processed} processed, {failed} failed)"]
    if skipped:
        parts.append(f"{skipped} already there")
    return f"{', '.join(parts)}, in {seconds:.1f} s"


def print_upload_results(results: list[dict]) -> None:
    # Ids are for copying: never cut or wrapped; the file (and why it failed) folds instead.
    # The thumbnail's size only when there is room for it next to a readable file name.
    wide = console.width >= WIDE
    table = Table(
        Column("image id", no_wrap=True, min_width=32),
        Column("status", no_wrap=True),
        *([Column("thumbnail", no_wrap=True)] if wide else []),
        Column("file", overflow="fold"),
    )
    for result in results:
        processed = result["Status"] == "PROCESSED"
        thumbnail = (
            f"{result['ThumbnailWidth']}x{result['ThumbnailHeight']}, "
            f"{describe.byte_size(result['ThumbnailSize'])}"
            if processed and "ThumbnailSize" in result
            else ""
        )
        file = Text(result["file"])
        if not processed:
            reason = ": ".join(filter(None, (result.get("ErrorCode"), result.get("ErrorMessage"))))
            file.append(f"\n{reason}", style="red")
        label = "already there" if result.get("skipped") else result["Status"]
        status = Text(label, style="dim" if result.get("skipped") else "green" if processed else "red")
        table.add_row(result.get("imageId", ""), status, *([thumbnail] if wide else []), file)
    console.print(table)


def command_ls(client: PipelineClient, args: argparse.Namespace) -> int:
    items = list(client.images(limit=args.limit))
    if args.json:
        print(json.dumps(items, indent=2))
        return 0
    if not items:
        complain("no images yet (imgpipe upload FILE|DIR adds some)")
        return 0
    now = datetime.now(UTC)
    if args.wide:
        # Everything, ids whole: for a wide terminal, or for piping into other tools.
        table = Table(
            Column("image id", no_wrap=True),
            Column("status", no_wrap=True),
            Column("pixels", no_wrap=True),
            Column("bytes", justify="right", no_wrap=True),
            Column("uploaded", no_wrap=True),
            Column("file", no_wrap=True),
            Column("reason", no_wrap=True),
            box=box.SIMPLE_HEAD,
        )
        for item in items:
            table.add_row(
                item["ImageID"],
                status_text(item),
                f"{item['Width']}x{item['Height']}" if "Width" in item else "",
                describe.byte_size(int(item["SourceSize"])) if "SourceSize" in item else "",
                describe.local_time(item["CreatedAt"]),
                Text(item["SourceKey"]),
                Text(item.get("ErrorCode", ""), style="red"),
            )
        # Lines as long as the rows need (as `ps -w` does): nothing cut, whatever the terminal.
        natural = Measurement.get(console, console.options.update(max_width=10_000), table).maximum
        Console(
            width=max(console.width, natural),
            color_system=console.color_system,
            force_terminal=console.is_terminal,
        ).print(table)
        return 0
    # 80 columns: a short id that show/rm/share accept, the file's name, status, size, age. Every
    # column but the name keeps its whole width; the name gives way (--wide shows it whole).
    ids = describe.short_ids([item["ImageID"] for item in items])
    rows = [
        (
            ids[item["ImageID"]],
            Text(file_name(item)),
            status_text(item, reason=True),
            describe.byte_size(int(item["SourceSize"])) if "SourceSize" in item else "",
            describe.age(item["CreatedAt"], now),
        )
        for item in items
    ]

    def widest(index: int, title: str) -> int:
        return max(len(title), *(len(str(row[index])) for row in rows))

    fixed = [widest(index, title) for index, title in ((0, "id"), (2, "status"), (3, "size"), (4, "age"))]
    # Each of the 5 columns is padded by 1 on both sides; the box draws 6 (invisible) rules.
    room_for_name = max(8, console.width - sum(fixed) - 2 * 5 - 6)
    table = Table(
        Column("id", no_wrap=True, min_width=fixed[0]),
        Column("file", overflow="ellipsis", no_wrap=True, max_width=room_for_name),
        Column("status", no_wrap=True, min_width=fixed[1]),
        Column("size", justify="right", no_wrap=True, min_width=fixed[2]),
        Column("age", justify="right", no_wrap=True, min_width=fixed[3]),
        box=box.SIMPLE_HEAD,
    )
    for row in rows:
        table.add_row(*row)
    console.print(table)
    return 0


def status_text(item: dict, reason: bool = False) -> Text:
    """'processed', 'failed', or with `reason` 'failed: CORRUPT_IMAGE' (the code the README explains)."""
    style = {"PROCESSED": "green", "FAILED": "red"}.get(item["Status"], "yellow")
    words = item["Status"].lower()
    if reason and item.get("ErrorCode"):
        words += f": {item['ErrorCode']}"
    return Text(words, style=style)


def file_name(item: dict) -> str:
    """The uploaded file's name: the last part of its key (uploads through the API are api/<uuid>/<name>)."""
    return item["SourceKey"].rsplit("/", 1)[-1] or item["SourceKey"]


def command_show(client: PipelineClient, args: argparse.Namespace) -> int:
    item = client.get(client.resolve_id(args.image_id))
    workflow = client.steps(item["ImageID"]) if item.get("ExecutionArn") else None
    if args.json:
        print(json.dumps({**item, "Workflow": workflow} if workflow else item, indent=2))
        return 0
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    for label, value in image_facts(item):
        facts.add_row(label, value)
    console.print(facts)
    console.print()

    renditions = item.get("Renditions") or {}
    if renditions:
        table = Table("rendition", "size", "format", Column("bytes", justify="right"))
        for name, entry in renditions.items():
            table.add_row(name, f"{entry['Width']}x{entry['Height']}", entry["Format"], f"{entry['Size']:,}")
        console.print(table)

    if workflow:
        console.print()
        console.print(steps_table(workflow))

    # Links on lines of their own, never wrapped or cut: they are for copying.
    links = {"original": item["Urls"]["Original"], **(item["Urls"].get("Renditions") or {})}
    if not item["Urls"].get("Renditions") and item["Urls"].get("Thumbnail"):
        links["thumbnail"] = item["Urls"]["Thumbnail"]
    console.print("\n[bold]links[/] (they expire within minutes)")
    for name, url in links.items():
        console.print(f"{name}:", style="bold")
        console.print(url, soft_wrap=True, markup=False, highlight=False)
    return 0


def steps_table(workflow: dict) -> Table:
    """The steps of the workflow execution that made the row: what ran, how long, why it failed."""
    styles = {"SUCCEEDED": "green", "FAILED": "red", "RETRIED": "yellow"}
    status = workflow["status"] or ""
    table = Table(
        "step",
        "status",
        Column("took", justify="right"),
        Column("error", overflow="fold"),
        title=f"workflow: {status.lower()}",
        title_justify="left",
        title_style="bold",
    )
    for step in workflow["steps"]:
        took = f"{step['durationMs']:,} ms" if step["durationMs"] is not None else "…"
        table.add_row(
            step["name"],
            Text(step["status"].lower(), style=styles.get(step["status"], "")),
            took,
            Text(step["error"] or ""),
        )
    if not workflow["steps"]:
        empty = {"EXPIRED": "(its history expired)", "UNAVAILABLE": "(no workflow any more)"}
        table.add_row(empty.get(status, "(no steps yet)"), "", "", "")
    return table


def image_facts(item: dict) -> list[tuple[str, Text | str]]:
    """What `show` says about an image, in plain words."""
    status_style = {"PROCESSED": "green", "FAILED": "red"}.get(item["Status"], "yellow")
    facts: list[tuple[str, Text | str]] = [
        ("image", item["ImageID"]),
        ("file", Text(item["SourceKey"])),
        ("status", Text(item["Status"], style=status_style)),
    ]
    if "ErrorCode" in item:
        facts.append(("reason", Text(f"{item['ErrorCode']}: {item.get('ErrorMessage', '')}", style="red")))
    original = [
        item.get("SourceFormat"),
        f"{item['Width']}x{item['Height']}" if "Width" in item else None,
        describe.byte_size(int(item["SourceSize"])) if "SourceSize" in item else None,
    ]
    if any(original):
        facts.append(("original", ", ".join(part for part in original if part)))
    facts.extend((label, Text(words)) for label, words in describe.camera_facts(item))
    facts.append(("uploaded", describe.local_time(item["CreatedAt"])))
    if item.get("UpdatedAt") and item["UpdatedAt"] != item["CreatedAt"]:
        facts.append(("updated", describe.local_time(item["UpdatedAt"])))
    return facts


def command_share(client: PipelineClient, args: argparse.Namespace) -> int:
    args.image_id = client.resolve_id(args.image_id)
    if args.revoke:
        client.revoke_share(args.image_id, args.revoke)
        if args.json:
            print(json.dumps({"token": args.revoke, "revoked": True}))
        else:
            console.print(f"revoked {args.revoke}: the link now answers 410 Gone", highlight=False)
        return 0
    share = client.share(args.image_id, args.expires)
    if args.json:
        print(json.dumps({name: share[name] for name in ("token", "url", "expiresAt")}, indent=2))
        return 0
    left = (describe.parse_time(share["expiresAt"]) - datetime.now(UTC)).total_seconds()
    console.print(share["url"], soft_wrap=True, markup=False, highlight=False)
    errors.print(
        f"valid until {describe.local_time(share['expiresAt'])} (in {describe.duration(left)})\n"
        f"revoke it with: imgpipe share {args.image_id} --revoke {share['token']}",
        highlight=False,
        soft_wrap=True,
    )
    return 0


def command_rm(client: PipelineClient, args: argparse.Namespace) -> int:
    failed = 0
    results = []
    for given in args.image_ids:
        image_id = given
        try:
            image_id = client.resolve_id(given)
            client.delete(image_id)
            results.append({"imageId": image_id, "deleted": True})
        except describe.IdPrefixError as error:
            failed += 1
            results.append({"imageId": given, "deleted": False, "error": "UNKNOWN_ID", "message": str(error)})
        except RequestException as error:  # the others are still reported
            failed += 1
            results.append(
                {"imageId": image_id, "deleted": False, "error": "UNREACHABLE", "message": str(error)}
            )
        except ApiError as error:
            failed += 1
            results.append(
                {"imageId": image_id, "deleted": False, "error": error.code, "message": error.message}
            )
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for result in results:
            if result["deleted"]:
                console.print(f"deleted {result['imageId']}", highlight=False)
            else:
                complain(f"{result['imageId']}: {result['message']}")
    return 1 if failed else 0


def command_open(client: PipelineClient, args: argparse.Namespace, web_url: str) -> int:
    print(json.dumps({"url": web_url}) if args.json else web_url)
    webbrowser.open(web_url)
    return 0


class HelpFormatter(argparse.HelpFormatter):
    """Wraps each paragraph to the terminal; keeps indented lines (examples) as they are."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = []
        for paragraph in text.strip().split("\n\n"):
            if paragraph.startswith("  ") or "\n  " in paragraph:
                paragraphs.append("\n".join(indent + line for line in paragraph.splitlines()))
            else:
                paragraphs.append(super()._fill_text(paragraph, width, indent))
        return "\n\n".join(paragraphs)


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """A usage mistake in one line, saying where the usage is (argparse prints the whole usage)."""
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def expiry(text: str) -> int:
    try:
        return describe.parse_duration(text)
    except describe.DurationError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def common_options(suppress_defaults: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the command; after it, unset ones must not reset them."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress_defaults else value

    common = Parser(add_help=False)
    common.add_argument(
        "--stack-name",
        default=default(emulator_setting("STACK_NAME")),
        help="the pipeline's CloudFormation stack (default: $STACK_NAME, emulator.env's, or image-pipeline)",
    )
    common.add_argument(
        "--aws",
        action="store_true",
        default=default(False),
        help="use the stack on AWS (default: the emulator)",
    )
    common.add_argument("--profile", default=default(None), help="AWS profile (implies --aws)")
    common.add_argument("--region", default=default(None), help="AWS region (default: the profile's)")
    common.add_argument("--json", action="store_true", default=default(False), help="machine-readable output")
    common.add_argument(
        "--debug", action="store_true", default=default(False), help="on failure, show the traceback"
    )
    return common


def parser() -> argparse.ArgumentParser:
    common = common_options(suppress_defaults=True)
    root = Parser(
        prog="imgpipe",
        description=__doc__,
        epilog=(
            "examples:\n"
            "  imgpipe upload ~/Pictures/holiday/\n"
            "  imgpipe ls --limit 20\n"
            "  imgpipe show ID\n"
            "  imgpipe share ID --expires 12h\n"
            "  imgpipe rm ID\n\n"
            "`imgpipe COMMAND --help` says more about each command."
        ),
        parents=[common_options(suppress_defaults=False)],
    )
    commands = root.add_subparsers(dest="command", required=True)
    upload = commands.add_parser(
        "upload", parents=[common], help="upload files or directories, wait for processing, print the results"
    )
    upload.add_argument("paths", nargs="+", metavar="FILE|DIR")
    upload.add_argument("--concurrency", type=positive, default=4, help="uploads at once (default 4)")
    upload.add_argument(
        "--skip-existing",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="skip files whose content the pipeline already has (default: on when a directory is named)",
    )
    ls = commands.add_parser(
        "ls",
        parents=[common],
        help="list images, newest first",
        description=(
            "List images, newest first: a short id (show, share and rm accept it, or any unique "
            "prefix of 4 or more digits), the file's name, status, size and age."
        ),
    )
    ls.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    ls.add_argument("--wide", action="store_true", help="whole ids, keys, pixels, upload times, reasons")
    show = commands.add_parser(
        "show",
        parents=[common],
        help="one image: its facts, camera, renditions and links",
        description="One image: status, size, camera facts, its renditions and short-lived links to each.",
    )
    show.add_argument("image_id", metavar="ID", help="the image's id or a unique prefix (imgpipe ls)")
    share = commands.add_parser(
        "share",
        parents=[common],
        help="a link to an image's watermarked proof that works until it expires",
        description=(
            "Print a link to the image's watermarked proof (the `proof` rendition) that anyone can "
            "open until it expires, without credentials. The link goes to stdout, its expiry to stderr. "
            "With --revoke, the link stops working at once."
        ),
        epilog=(
            "examples:\n"
            "  imgpipe share 6ed62a3f3efd348d4c1e56c9a0b1c2d3\n"
            "  imgpipe share 6ed62a3f3efd348d4c1e56c9a0b1c2d3 --expires 12h\n"
            "  imgpipe share 6ed62a3f3efd348d4c1e56c9a0b1c2d3 --revoke TOKEN"
        ),
    )
    share.add_argument("image_id", metavar="ID", help="the image's id or a unique prefix (imgpipe ls)")
    how = share.add_mutually_exclusive_group()
    how.add_argument(
        "--expires",
        type=expiry,
        metavar="DURATION",
        help="how long the link works: 90s, 30m, 12h, 3d, 1w or seconds; at most 7 days (default 3d)",
    )
    how.add_argument("--revoke", metavar="TOKEN", help="revoke the link with this token instead")
    rm = commands.add_parser("rm", parents=[common], help="delete images (original, renditions and row)")
    rm.add_argument("image_ids", nargs="+", metavar="ID", help="ids or unique prefixes (imgpipe ls)")
    commands.add_parser("open", parents=[common], help="open the web page")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        status = run(args)
        sys.stdout.flush()  # here, where a closed pipe is handled, not at exit
        return status
    except BrokenPipeError:
        # The reader stopped reading (`imgpipe ls --json | head`): not a failure to report. Further
        # writes at exit must not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # what a shell reports for a process ended by SIGPIPE
    except KeyboardInterrupt:
        complain("interrupted")
        return 130
    except StackTooOldError as error:
        complain(str(error))
        return 2
    except Exception as error:
        if args.debug:
            raise
        use_aws = args.aws or bool(args.profile)
        try:
            cloudformation = cloudformation_client(use_aws, args.profile, args.region)
        except Exception:  # (a missing profile, say) only for naming the stacks that exist
            cloudformation = None
        line = failures.explain(error, None if use_aws else emulator_endpoint(), cloudformation)
        complain(line or f"{type(error).__name__}: {error} (--debug shows the traceback)")
        return 2 if line else 1


def run(args: argparse.Namespace) -> int:
    target = find_target(args.stack_name, args.aws, args.profile, args.region)
    client = PipelineClient(target.api_url, target.api_key)
    try:
        if args.command == "open":
            return command_open(client, args, target.web_url)
        commands = {
            "upload": command_upload,
            "ls": command_ls,
            "show": command_show,
            "share": command_share,
            "rm": command_rm,
        }
        return commands[args.command](client, args)
    except ApiError as error:
        if args.json:
            print(json.dumps({"error": {"code": error.code, "message": error.message}}))
        else:
            complain(error.message)
        return 1
    except describe.IdPrefixError as error:
        if args.json:
            print(json.dumps({"error": {"code": "UNKNOWN_ID", "message": str(error)}}))
        else:
            complain(str(error))
        return 1
    except RequestException as error:
        if args.debug:
            raise
        complain(f"cannot reach the API at {target.api_url}: {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
