"""The web page in a real headless Chromium: upload, watch the thumbnail appear, open the details,
delete, and see why a failed upload failed. A screenshot of the gallery lands in test-artifacts/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from tests import images
from tests.e2e.conftest import stack_outputs

REPO_ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# As the machine's own probe runs it: no sandbox as root, and no calls home on a closed network.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt install chromium; .ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def web(aws, emulator, api_url) -> dict[str, str]:
    return {"page": f"{emulator}/{stack_outputs(aws)['WebBucketName']}/index.html", "api": api_url}


def test_upload_see_thumbnail_details_delete_and_a_failure(browser, web, tmp_path):
    photo = tmp_path / "sunset.jpg"
    photo.write_bytes(images.jpeg(1600, 1000))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(images.TEXT)

    page = browser.new_page(viewport={"width": 1100, "height": 900})
    # Script errors only: 404s while an upload is not yet processed are expected answers.
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    page.goto(web["page"])
    expect(page.get_by_role("heading", name="Gallery")).to_be_visible()

    page.set_input_files("#file-input", [str(photo), str(broken)])

    thumbnail = page.get_by_role("img", name="Thumbnail of sunset.jpg")
    expect(thumbnail).to_be_visible(timeout=60_000)
    page.wait_for_function(
        "() => [...document.images].some(i => i.alt === 'Thumbnail of sunset.jpg' && i.naturalWidth > 0)"
    )
    assert thumbnail.evaluate("image => image.naturalWidth") == 256

    failed_card = page.locator(".card.failed", has_text="broken.jpg")
    expect(failed_card).to_contain_text("NOT_AN_IMAGE", timeout=60_000)
    expect(failed_card).to_contain_text("the file is not an image")

    expect(page.locator("#gallery-status")).to_have_text("")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "gallery.png"), full_page=True)

    page.get_by_role("button", name="Details of sunset.jpg").first.click()
    dialog = page.locator("dialog#details")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("PROCESSED")
    expect(dialog).to_contain_text("1600")
    original = dialog.get_by_role("link", name="Open the original").get_attribute("href")
    assert requests.get(original).content == photo.read_bytes()
    image_id = page.locator(".card", has_text="sunset.jpg").first.get_attribute("data-image-id")

    dialog.get_by_role("button", name="Delete").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f'[data-image-id="{image_id}"]')).to_have_count(0)
    assert requests.get(f"{web['api']}/images/{image_id}").status_code == 404

    failed_id = failed_card.first.get_attribute("data-image-id")
    requests.delete(f"{web['api']}/images/{failed_id}")
    assert not script_errors, script_errors
