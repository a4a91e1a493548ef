"""The imgpipe command, as installed with the project, against the running emulator."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import requests
from imgpipe import describe
from PIL import Image

from tests import images
from tests.e2e.conftest import ENDPOINT, free_port

IMGPIPE = Path(sys.executable).parent / "imgpipe"


def imgpipe(*arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """imgpipe as a person runs it; `environment` overrides variables (LOCALSTACK_PORT=…)."""
    # BROWSER=true: `imgpipe open` hands the URL to a command that does nothing.
    # COLUMNS=80: what a default terminal gives; links and ids must survive it whole.
    return subprocess.run(
        [str(IMGPIPE), *arguments],
        capture_output=True,
        text=True,
        env={**os.environ, "BROWSER": "true", "COLUMNS": "80", **environment},
        timeout=180,
    )


@contextmanager
def uploaded_for_the_test(path: Path) -> Iterator[dict]:
    """One file uploaded through imgpipe, removed again whatever the test found."""
    uploaded = upload(path)
    try:
        yield uploaded
    finally:
        imgpipe("rm", uploaded["imageId"])


def upload(path: Path) -> dict:
    result = imgpipe("upload", str(path), "--json")
    assert result.returncode == 0, result.stderr
    [uploaded] = json.loads(result.stdout)
    return uploaded


def redirect_target(link: str) -> str:
    """Where a share link sends its visitor (it must be a redirect)."""
    response = requests.get(link, allow_redirects=False, timeout=30)
    assert response.status_code == 302, (response.status_code, response.text)
    return response.headers["Location"]


def answers_gone(link: str) -> None:
    response = requests.get(link, allow_redirects=False, timeout=30)
    assert response.status_code == 410, (response.status_code, response.text)
    assert response.json()["error"]["code"]


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    (folder / "nested").mkdir(parents=True)
    (folder / "beach.jpg").write_bytes(images.jpeg(1600, 1200))
    (folder / "nested" / "logo.png").write_bytes(images.png_with_alpha(600, 300))
    (folder / "notes.txt").write_text("not an image, and not picked up from a directory")
    return folder


@pytest.mark.parametrize("command", [[], ["upload"], ["ls"], ["show"], ["share"], ["rm"], ["open"]])
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
    assert url.startswith(f"{ENDPOINT}/") and url.endswith("/index.html")  # this emulator's port


def test_show_lists_renditions_camera_facts_and_whole_links(emulator, tmp_path):
    photo = tmp_path / "camera.jpg"
    photo.write_bytes(images.camera_jpeg(2400, 1600))
    with uploaded_for_the_test(photo) as uploaded:
        item = json.loads(imgpipe("show", uploaded["imageId"], "--json").stdout)
        assert set(item["Renditions"]) >= {"thumbnail", "web", "proof"}

        shown = imgpipe("show", uploaded["imageId"])
        assert shown.returncode == 0, shown.stderr
        lines = shown.stdout.splitlines()
        for name, rendition in item["Renditions"].items():
            row = next(line for line in lines if f" {name} " in line and "x" in line)
            assert f"{rendition['Width']}x{rendition['Height']}" in row
            assert rendition["Format"] in row and f"{rendition['Size']:,}" in row
        # Every link on a line of its own, whole: each one opens what it names.
        links = [line for line in lines if line.startswith("http")]
        assert len(links) == 1 + len(item["Renditions"])
        for name, rendition in item["Renditions"].items():
            [link] = [link for link in links if urlsplit(link).path.endswith(quote(rendition["Key"]))]
            response = requests.get(link, timeout=30)
            assert response.status_code == 200, (name, response.status_code)
            assert Image.open(io.BytesIO(response.content)).size == (rendition["Width"], rendition["Height"])
        # The camera's facts in plain words.
        assert "1 May 2026, 14:03 (UTC+02:00)" in shown.stdout
        assert "Canon EOS R5" in shown.stdout and "Canon Canon" not in shown.stdout
        assert "RF24-70mm F2.8 L IS USM" in shown.stdout
        assert "35 mm · f/2.8 · 1/250 s · ISO 400" in shown.stdout


def test_share_a_proof_then_revoke_it(emulator, tmp_path):
    photo = tmp_path / "proof-me.jpg"
    photo.write_bytes(images.jpeg(1600, 1200))
    with uploaded_for_the_test(photo) as uploaded:
        shared = imgpipe("share", uploaded["imageId"], "--json")
        assert shared.returncode == 0, shared.stderr
        share = json.loads(shared.stdout)
        assert set(share) == {"token", "url", "expiresAt"}

        proof = requests.get(redirect_target(share["url"]), timeout=30)
        assert proof.status_code == 200 and proof.headers["Content-Type"] == "image/jpeg"
        decoded = Image.open(io.BytesIO(proof.content))
        expected = uploaded["Renditions"]["proof"]
        assert decoded.format == "JPEG" and decoded.size == (expected["Width"], expected["Height"])

        revoked = imgpipe("share", uploaded["imageId"], "--revoke", share["token"])
        assert revoked.returncode == 0, revoked.stderr
        answers_gone(share["url"])
        again = imgpipe("share", uploaded["imageId"], "--revoke", "x" * 32)
        assert again.returncode == 1 and len(again.stderr.splitlines()) == 1


def test_a_share_link_expires(emulator, tmp_path):
    photo = tmp_path / "brief.jpg"
    photo.write_bytes(images.jpeg(800, 600))
    with uploaded_for_the_test(photo) as uploaded:
        shared = imgpipe("share", uploaded["imageId"], "--expires", "2s")
        assert shared.returncode == 0, shared.stderr
        # The link alone on stdout (for scripts); when it expires, in local time, on stderr.
        [link] = shared.stdout.splitlines()
        assert link.startswith("http") and "/share/" in link
        assert shared.stderr.startswith("valid until ") and " second" in shared.stderr
        time.sleep(3)
        answers_gone(link)


@pytest.mark.parametrize("expires", ["2x", "8d", "0", "-5m", "1.5h", "3 days", ""])
def test_a_bad_expiry_is_one_line_and_a_non_zero_exit(expires):
    result = imgpipe("share", "0" * 32, "--expires", expires)
    assert result.returncode == 2 and not result.stdout
    [line] = result.stderr.splitlines()
    assert line.startswith("imgpipe share: argument --expires") and "Traceback" not in line


def test_sharing_what_cannot_be_shared_is_one_line(emulator, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(images.TEXT)
    result = imgpipe("upload", str(broken), "--json")
    [failed] = json.loads(result.stdout)
    try:
        no_proof = imgpipe("share", failed["imageId"])
        assert no_proof.returncode == 1 and not no_proof.stdout
        assert len(no_proof.stderr.splitlines()) == 1 and "proof" in no_proof.stderr
        as_json = imgpipe("share", failed["imageId"], "--json")
        assert json.loads(as_json.stdout)["error"]["code"] == "NO_PROOF"
    finally:
        imgpipe("rm", failed["imageId"])
    unknown = imgpipe("share", "0" * 32)
    assert unknown.returncode == 1 and len(unknown.stderr.splitlines()) == 1


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.stdout == "" and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def test_an_emulator_that_is_not_running_is_one_line_that_names_the_fix():
    port = free_port()
    result = imgpipe("ls", LOCALSTACK_PORT=str(port), AWS_ENDPOINT_URL="")
    assert result.returncode == 2
    assert f"http://localhost:{port}" in one_line_error(result) and "make up" in result.stderr


def test_another_server_on_the_port_is_named_as_such():
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not _listening(port):
            assert time.monotonic() < deadline, "http.server did not start"
            time.sleep(0.05)
        result = imgpipe("ls", LOCALSTACK_PORT=str(port), AWS_ENDPOINT_URL="")
        debug = imgpipe("ls", "--debug", LOCALSTACK_PORT=str(port), AWS_ENDPOINT_URL="")
    finally:
        server.terminate()
        server.wait()
    assert result.returncode == 2
    assert "another server on that port" in one_line_error(result)
    assert "Traceback" in debug.stderr  # asked for


def test_an_unknown_stack_names_the_stacks_that_exist(emulator):
    result = imgpipe("ls", "--stack-name", "no-such-stack")
    assert result.returncode == 2
    line = one_line_error(result)
    assert "no-such-stack does not exist" in line and "image-pipeline" in line.split("stacks there:")[1]


def test_output_piped_into_a_reader_that_stops_early_is_not_an_error(emulator, tmp_path):
    for index in range(3):
        (tmp_path / f"pipe-{index}.png").write_bytes(images.png_with_alpha(64 + index, 64))
    assert imgpipe("upload", str(tmp_path), "--json").returncode == 0
    # `true` reads nothing and exits at once: every write of imgpipe meets a closed pipe. One small
    # item, buffered output (as in a terminal without PYTHONUNBUFFERED): the write fails only when
    # Python flushes, which must not be at exit.
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    pipeline = subprocess.run(
        ["bash", "-c", f"'{IMGPIPE}' ls --json --limit 1 | true; echo ${{PIPESTATUS[0]}}"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    assert pipeline.stderr == ""  # no BrokenPipeError traceback
    assert pipeline.stdout == "141\n"  # as a shell reports a writer ended by SIGPIPE


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_ls_at_80_columns_shows_whole_rows_with_short_ids_that_show_and_rm_accept(emulator, tmp_path):
    (tmp_path / "a-rather-long-file-name-from-a-camera-roll-0001.jpg").write_bytes(images.jpeg(900, 600))
    [uploaded] = json.loads(imgpipe("upload", str(tmp_path), "--json").stdout)
    listing = imgpipe("ls", "--limit", "5")
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    [row] = [line for line in lines if line.split() and uploaded["imageId"].startswith(line.split()[0])]
    short_id = row.split()[0]
    assert 8 <= len(short_id) < 32
    assert "a-rather-long" in row and "processed" in row
    assert describe.byte_size(uploaded["SourceSize"]) in row and row.rstrip().endswith((" now", " s"))

    shown = imgpipe("show", short_id, "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout)["ImageID"] == uploaded["imageId"]
    wrong = imgpipe("show", "zz12")
    assert wrong.returncode == 1 and "not an image id" in one_line_error(wrong)
    removed = imgpipe("rm", short_id[:6], "--json")
    assert json.loads(removed.stdout) == [{"imageId": uploaded["imageId"], "deleted": True}]


def test_uploading_a_folder_again_skips_what_is_there(emulator, tmp_path):
    for index in range(3):
        (tmp_path / f"again-{index}.png").write_bytes(images.png_with_alpha(70 + index, 31))
    first = imgpipe("upload", str(tmp_path))
    assert first.returncode == 0 and first.stderr.splitlines()[-1].startswith("3 uploaded (3 processed")
    again = imgpipe("upload", str(tmp_path))
    assert again.returncode == 0 and "nothing new: all 3 already there" in again.stderr
    assert again.stdout.count("already there") == 3
    # The table names the files as typed, relative to here.
    relative = subprocess.run(
        [str(IMGPIPE), "upload", tmp_path.name, "--json"],
        cwd=tmp_path.parent,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
        timeout=120,
    )
    results = json.loads(relative.stdout)
    assert sorted(result["file"] for result in results) == [
        f"{tmp_path.name}/again-{index}.png" for index in range(3)
    ]
    assert all(result["skipped"] for result in results)
    forced = json.loads(
        imgpipe("upload", str(tmp_path / "again-0.png"), "--no-skip-existing", "--json").stdout
    )
    assert not forced[0].get("skipped") and forced[0]["Status"] == "PROCESSED"
    imgpipe("rm", *{result["imageId"] for result in results + forced})


def test_show_prints_the_workflow_steps_in_stepfunctions_mode(aws, emulator, tmp_path):
    """`imgpipe show` of an image the Step Functions workflow made: its steps, at 80 columns;
    `--json` has them too. (A direct-mode image has none: the test above sees no workflow.)"""
    from tests.e2e.pipeline.conftest import get_row, read_stack, stack_of_workflow, wait_for_execution

    stack_name = stack_of_workflow(aws, "stepfunctions")
    photo = tmp_path / "steps.jpg"
    photo.write_bytes(images.jpeg(800, 600))
    result = imgpipe("--stack-name", stack_name, "upload", str(photo), "--json")
    assert result.returncode == 0, result.stderr
    [uploaded] = json.loads(result.stdout)
    try:
        # upload waits for the row, final at RecordRow; Notify still runs after it.
        row = get_row(aws, read_stack(aws, stack_name), uploaded["imageId"])
        assert wait_for_execution(aws, row["ExecutionArn"])["status"] == "SUCCEEDED"
        shown = imgpipe("--stack-name", stack_name, "show", uploaded["imageId"])
        assert shown.returncode == 0, shown.stderr
        assert "workflow: " in shown.stdout
        for step in ("MakeRenditions", "RecordRow", "Notify"):
            [line] = [line for line in shown.stdout.splitlines() if f" {step} " in line]
            assert "succeeded" in line and " ms" in line
        assert max(len(line) for line in shown.stdout.splitlines() if not line.startswith("http")) <= 80
        item = json.loads(imgpipe("--stack-name", stack_name, "show", uploaded["imageId"], "--json").stdout)
        assert item["Workflow"]["executionArn"] == item["ExecutionArn"]
        assert [step["name"] for step in item["Workflow"]["steps"]] == [
            "MakeRenditions",
            "RecordRow",
            "Notify",
        ]
    finally:
        imgpipe("--stack-name", stack_name, "rm", uploaded["imageId"])
