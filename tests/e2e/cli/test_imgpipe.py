"""The imgpipe command, as installed with the project, against the running emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import images

IMGPIPE = Path(sys.executable).parent / "imgpipe"


def imgpipe(*arguments: str) -> subprocess.CompletedProcess[str]:
    # BROWSER=true: `imgpipe open` hands the URL to a command that does nothing.
    return subprocess.run(
        [str(IMGPIPE), *arguments],
        capture_output=True,
        text=True,
        env={**os.environ, "BROWSER": "true"},
        timeout=180,
    )


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    (folder / "nested").mkdir(parents=True)
    (folder / "beach.jpg").write_bytes(images.jpeg(1600, 1200))
    (folder / "nested" / "logo.png").write_bytes(images.png_with_alpha(600, 300))
    (folder / "notes.txt").write_text("not an image, and not picked up from a directory")
    return folder


@pytest.mark.parametrize("command", [[], ["upload"], ["ls"], ["show"], ["rm"], ["open"]])
def test_every_command_has_help(emulator, command):
    result = imgpipe(*command, "--help")
    assert result.returncode == 0 and "usage: imgpipe" in result.stdout


def test_upload_a_directory_then_ls_show_rm(emulator, photos):
    uploaded = imgpipe("upload", str(photos), "--json")
    assert uploaded.returncode == 0, uploaded.stderr
    results = json.loads(uploaded.stdout)
    assert sorted(Path(result["file"]).name for result in results) == ["beach.jpg", "logo.png"]
    assert all(result["Status"] == "PROCESSED" for result in results)
    sizes = {
        Path(result["file"]).name: (result["ThumbnailWidth"], result["ThumbnailHeight"]) for result in results
    }
    assert sizes == {"beach.jpg": (256, 192), "logo.png": (256, 128)}

    listed = json.loads(imgpipe("ls", "--limit", "100", "--json").stdout)
    ids = {result["imageId"] for result in results}
    assert ids <= {item["ImageID"] for item in listed}

    beach = next(result for result in results if result["file"].endswith("beach.jpg"))
    shown = imgpipe("show", beach["imageId"], "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout)["Width"] == 1600
    human = imgpipe("show", beach["imageId"])
    assert human.returncode == 0 and "PROCESSED" in human.stdout

    removed = imgpipe("rm", *ids, "--json")
    assert removed.returncode == 0 and all(entry["deleted"] for entry in json.loads(removed.stdout))
    gone = imgpipe("show", beach["imageId"], "--json")
    assert gone.returncode == 1 and json.loads(gone.stdout)["error"]["code"] == "IMAGE_NOT_FOUND"
    again = imgpipe("rm", beach["imageId"])
    assert again.returncode == 1


def test_a_failed_upload_makes_the_exit_code_non_zero(emulator, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(images.jpeg(800, 600)[:700])
    good = tmp_path / "fine.jpg"
    good.write_bytes(images.jpeg(300, 200))
    result = imgpipe("upload", str(bad), str(good), "--json")
    assert result.returncode == 1
    outcomes = {Path(entry["file"]).name: entry for entry in json.loads(result.stdout)}
    assert (
        outcomes["broken.jpg"]["Status"] == "FAILED"
        and outcomes["broken.jpg"]["ErrorCode"] == "CORRUPT_IMAGE"
    )
    assert outcomes["fine.jpg"]["Status"] == "PROCESSED"
    table = imgpipe("ls")
    assert table.returncode == 0 and "CORRUPT_IMAGE" in table.stdout
    imgpipe("rm", *(entry["imageId"] for entry in outcomes.values()))


def test_usage_errors(emulator, tmp_path):
    assert imgpipe("upload", str(tmp_path / "missing.jpg")).returncode != 0
    assert imgpipe("show", "not-an-id").returncode == 1
    assert imgpipe("--stack-name", "no-such-stack", "ls").returncode == 2


def test_open_prints_the_web_page(emulator):
    result = imgpipe("open", "--json")
    assert result.returncode == 0
    url = json.loads(result.stdout)["url"]
    assert url.startswith("http://localhost:4566/") and url.endswith("/index.html")
