"""The web page in a real headless Chromium: upload, watch the thumbnails appear, open the details
(a large preview, the camera's facts, the workflow's steps in stepfunctions mode), share a proof,
delete, and see why a failed upload failed.

The page is the one in web/ (served in place of the published copy, which `make deploy` refreshes),
with the published config.js, so the test checks these files against the running API.
Screenshots of the gallery and the details, on a desktop and a phone, land in test-artifacts/.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import requests
from image_pipeline.records import image_id as image_id_of
from PIL import Image, ImageDraw
from playwright.sync_api import BrowserContext, Page, Route, expect, sync_playwright

from tests import images
from tests.e2e.conftest import STACK_NAME, api_key_of, stack_outputs
from tests.e2e.pipeline.conftest import stack_of_workflow, wait_for_execution

REPO_ROOT = Path(__file__).resolve().parents[3]
WEB_DIR = REPO_ROOT / "web"
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
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
# What a browser has on a page that is not a secure context (the machine's LAN address over
# http, say): no clipboard API. The page must then show the link for copying by hand.
NO_CLIPBOARD = "Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined });"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt install chromium; .ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def web_of(aws, emulator: str, stack_name: str) -> dict:
    """Where a stack's page and API are, and its API key."""
    outputs = stack_outputs(aws, stack_name)
    key = api_key_of(aws, stack_name)
    return {
        "page": f"{emulator}/{outputs['WebBucketName']}/index.html",
        "api": f"{emulator}/_aws/execute-api/{outputs['ApiId']}/api",
        "key": key,
        "headers": {"x-api-key": key},
    }


@pytest.fixture
def web(aws, emulator) -> dict:
    return web_of(aws, emulator, STACK_NAME)


def open_page(context: BrowserContext, web: dict, script_errors: list[str], with_key: bool = True) -> Page:
    """The gallery page from web/ (config.js from the web bucket), recording script errors; the
    API key already given (as the page remembers it after the first time) unless `with_key` is off."""
    if with_key:
        context.add_init_script(f"localStorage.setItem('imagePipelineApiKey', {json.dumps(web['key'])})")
    base = web["page"].rsplit("/", 1)[0]

    def from_working_tree(route: Route) -> None:
        path = WEB_DIR / urlsplit(route.request.url).path.rsplit("/", 1)[-1]
        if path.suffix in CONTENT_TYPES and path.is_file():
            route.fulfill(body=path.read_bytes(), content_type=CONTENT_TYPES[path.suffix])
        else:
            route.continue_()

    context.route(f"{base}/*", from_working_tree)
    page = context.new_page()
    # Script errors only: 404s while an upload is not yet processed are expected answers.
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    page.goto(web["page"])
    expect(page.get_by_role("heading", name="Gallery")).to_be_visible()
    return page


def landscape(width: int, height: int, sky: tuple, ground: tuple) -> Image.Image:
    """Sky, sun, two mountain ridges and a lake: something a person recognises in a screenshot."""
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    top, bottom = sky
    for y in range(height):
        colour = tuple(round(a + (b - a) * y / height) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)
    radius = min(width, height) // 10
    sun = (width * 0.68, height * 0.3)
    draw.ellipse((sun[0] - radius, sun[1] - radius, sun[0] + radius, sun[1] + radius), fill=(255, 236, 180))
    ridges = (
        (((0.2, 0.38), (0.55, 0.3), (0.85, 0.42)), (92, 104, 138)),
        (((0.35, 0.5), (0.7, 0.55)), (52, 62, 84)),
    )
    for peaks, colour in ridges:
        points = [(0, height * 0.75), *((width * x, height * y) for x, y in peaks), (width, height * 0.75)]
        draw.polygon(points, fill=colour)
    draw.rectangle((0, height * 0.75, width, height), fill=ground)
    return image


def item_of(web: dict, page: Page, name: str) -> dict:
    image_id = page.locator(".card", has_text=name).first.get_attribute("data-image-id")
    return requests.get(f"{web['api']}/images/{image_id}", headers=web["headers"], timeout=30).json()


def names(url: str, rendition: dict) -> bool:
    return urlsplit(url).path.endswith(quote(rendition["Key"]))


def wait_until_drawn(page: Page, name: str) -> None:
    expect(page.get_by_role("img", name=f"Thumbnail of {name}")).to_be_visible(timeout=60_000)
    page.wait_for_function(
        "alt => [...document.images].some(i => i.alt === alt && i.complete && i.naturalWidth > 0)",
        arg=f"Thumbnail of {name}",
    )


def opens_the_proof(link: str, proof: dict) -> None:
    """A share link redirects (302) to the watermarked proof JPEG."""
    redirect = requests.get(link, allow_redirects=False, timeout=30)
    assert redirect.status_code == 302, (redirect.status_code, redirect.text)
    decoded = Image.open(io.BytesIO(requests.get(redirect.headers["Location"], timeout=30).content))
    assert decoded.format == "JPEG" and decoded.size == (proof["Width"], proof["Height"])


def test_upload_see_thumbnail_details_delete_and_a_failure(browser, web, tmp_path):
    photo = tmp_path / "sunset.jpg"
    photo.write_bytes(images.jpeg(1600, 1000))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(images.TEXT)

    context = browser.new_context(viewport={"width": 1100, "height": 900})
    script_errors: list[str] = []
    page = open_page(context, web, script_errors)
    page.set_input_files("#file-input", [str(photo), str(broken)])

    wait_until_drawn(page, "sunset.jpg")
    thumbnail = page.get_by_role("img", name="Thumbnail of sunset.jpg")
    # At 1x, a card is narrower than the thumbnail: the browser keeps the thumbnail.
    item = item_of(web, page, "sunset.jpg")
    assert names(thumbnail.evaluate("image => image.currentSrc"), item["Renditions"]["thumbnail"])

    failed_card = page.locator(".card.failed", has_text="broken.jpg")
    # Plain words on the card; the code for whoever looks closer (the reason's tooltip).
    expect(failed_card.first).to_contain_text("This file is not an image.", timeout=60_000)
    expect(failed_card.first).not_to_contain_text("NOT_AN_IMAGE")
    expect(failed_card.first.locator(".error")).to_have_attribute(
        "title", "NOT_AN_IMAGE: the file is not an image"
    )
    upload_row = page.locator("#uploads li", has_text="broken.jpg")
    expect(upload_row).to_contain_text("This file is not an image.")

    expect(page.locator("#gallery-status")).to_have_text("")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "gallery.png"), full_page=True)

    page.get_by_role("button", name="Details of sunset.jpg").first.click()
    dialog = page.locator("dialog#details")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("PROCESSED")
    expect(dialog).to_contain_text("1600")
    original = dialog.get_by_role("link", name="Open the original").get_attribute("href")
    assert requests.get(original, timeout=30).content == photo.read_bytes()
    image_id = item["ImageID"]

    # Delete asks first; "Keep it" keeps it.
    dialog.get_by_role("button", name="Delete").click()
    expect(dialog.get_by_role("status")).to_have_text(
        "Delete sunset.jpg for good? The original, its renditions and its share links go too."
    )
    expect(dialog.get_by_role("button", name="Keep it")).to_be_focused()
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog.get_by_role("button", name="Keep it")).to_be_hidden()
    expect(page.locator(f'[data-image-id="{image_id}"]')).to_have_count(1)
    neighbour = page.locator(f'[data-image-id="{image_id}"]').evaluate(
        "card => (card.nextElementSibling || card.previousElementSibling).dataset.imageId"
    )
    dialog.get_by_role("button", name="Delete").click()
    dialog.get_by_role("button", name="Yes, delete").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f'[data-image-id="{image_id}"]')).to_have_count(0)
    # Focus goes where the card was: to the next one (or the one before), not lost to the page.
    focused = page.evaluate("document.activeElement.closest('.card')?.dataset.imageId")
    assert focused == neighbour
    assert (
        requests.get(f"{web['api']}/images/{image_id}", headers=web["headers"], timeout=30).status_code == 404
    )

    failed_id = failed_card.first.get_attribute("data-image-id")
    page.get_by_role("button", name="Details of broken.jpg").first.click()
    expect(dialog.get_by_role("button", name="Share proof")).to_be_hidden()
    dialog.get_by_role("button", name="Close").click()
    requests.delete(f"{web['api']}/images/{failed_id}", headers=web["headers"], timeout=30)
    context.close()
    assert not script_errors, script_errors


def test_renditions_camera_facts_and_share_links_on_a_desktop_and_a_phone(browser, web, tmp_path):
    lake = tmp_path / "lake-at-dusk.jpg"
    scene = landscape(2400, 1600, ((38, 70, 140), (250, 178, 120)), (30, 60, 90))
    lake.write_bytes(images.encode(scene, "JPEG", quality=88, exif=images.camera_exif()))
    peaks = tmp_path / "peaks.jpg"
    peaks.write_bytes(
        images.encode(landscape(1200, 1600, ((120, 170, 220), (220, 235, 245)), (60, 110, 60)), "JPEG")
    )
    logo = tmp_path / "logo.png"
    logo.write_bytes(images.png_with_alpha(800, 400))
    notes = tmp_path / "notes.jpg"
    notes.write_bytes(images.TEXT)
    ARTIFACTS.mkdir(exist_ok=True)
    script_errors: list[str] = []
    image_ids: list[str] = []

    desktop = browser.new_context(**DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    try:
        page = open_page(desktop, web, script_errors)
        page.set_input_files("#file-input", [str(path) for path in (notes, logo, peaks, lake)])
        for name in ("lake-at-dusk.jpg", "peaks.jpg", "logo.png"):
            wait_until_drawn(page, name)
        expect(page.locator(".card.failed", has_text="notes.jpg")).to_contain_text(
            "This file is not an image.", timeout=60_000
        )
        image_ids = [
            page.locator(".card", has_text=path.name).first.get_attribute("data-image-id")
            for path in (notes, logo, peaks, lake)
        ]
        item = item_of(web, page, "lake-at-dusk.jpg")
        renditions = item["Renditions"]

        # The card offers the web rendition, at its real width, for screens that need more pixels.
        card_image = page.get_by_role("img", name="Thumbnail of lake-at-dusk.jpg")
        srcset = dict(reversed(entry.split()) for entry in card_image.get_attribute("srcset").split(", "))
        assert set(srcset) == {f"{renditions['thumbnail']['Width']}w", f"{renditions['web']['Width']}w"}
        assert names(srcset[f"{renditions['web']['Width']}w"], renditions["web"])
        assert names(srcset[f"{renditions['thumbnail']['Width']}w"], renditions["thumbnail"])
        page.mouse.move(0, 0)
        page.screenshot(path=str(ARTIFACTS / "web-gallery-desktop.png"))

        # The details: a preview from the web rendition, the camera's facts, a share link.
        page.get_by_role("button", name="Details of lake-at-dusk.jpg").click()
        dialog = page.locator("dialog#details")
        preview = dialog.get_by_role("img", name="Preview of lake-at-dusk.jpg")
        expect(preview).to_be_visible()
        page.wait_for_function("() => document.getElementById('details-preview').naturalWidth > 0")
        assert preview.evaluate("image => image.naturalWidth") == renditions["web"]["Width"] > 256
        camera = dialog.locator("#details-camera")
        expect(camera).to_contain_text(
            "Canon EOS R5 · RF24-70mm F2.8 L IS USM · 35 mm · f/2.8 · 1/250 s · ISO 400"
        )
        expect(camera).to_contain_text("Captured ")
        expect(dialog).to_contain_text("WEBP")

        dialog.get_by_role("button", name="Share proof").click()
        status = dialog.get_by_role("status")
        expect(status).to_contain_text("Link copied — valid until ")
        expect(dialog.locator("#share-fallback")).to_be_hidden()
        link = page.evaluate("navigator.clipboard.readText()")
        opens_the_proof(link, renditions["proof"])
        page.screenshot(path=str(ARTIFACTS / "web-details-desktop.png"))
    finally:
        desktop.close()

    phone = browser.new_context(**PHONE)
    phone.add_init_script(NO_CLIPBOARD)
    try:
        page = open_page(phone, web, script_errors)
        wait_until_drawn(page, "lake-at-dusk.jpg")
        # Three device pixels per CSS pixel: a two-column card needs more than the thumbnail.
        card_image = page.get_by_role("img", name="Thumbnail of lake-at-dusk.jpg")
        assert names(card_image.evaluate("image => image.currentSrc"), renditions["web"])
        page.wait_for_function("() => [...document.images].every(image => image.complete)")
        page.screenshot(path=str(ARTIFACTS / "web-gallery-phone.png"))

        page.get_by_role("button", name="Details of lake-at-dusk.jpg").click()
        dialog = page.locator("dialog#details")
        dialog.get_by_role("button", name="Share proof").click()
        expect(dialog.get_by_role("status")).to_contain_text("Copy this link — valid until ")
        field = dialog.get_by_role("textbox", name="Share link")
        expect(field).to_be_visible()
        expect(field).to_be_focused()
        assert field.evaluate(
            "f => f.readOnly && f.selectionStart === 0 && f.selectionEnd === f.value.length"
        )
        opens_the_proof(field.input_value(), renditions["proof"])
        page.screenshot(path=str(ARTIFACTS / "web-details-phone.png"))
    finally:
        phone.close()
        for image_id in image_ids:
            requests.delete(f"{web['api']}/images/{image_id}", headers=web["headers"], timeout=30)
    assert not script_errors, script_errors


def shown_steps(dialog) -> list[dict]:
    """The steps the details list: the state's name, its words, outcome, time and error."""
    return dialog.locator("#details-steps-list li").evaluate_all(
        """items => items.map(item => ({
            name: item.dataset.step,
            words: item.querySelector('.name').textContent,
            status: item.querySelector('.state').textContent,
            took: item.querySelector('.took').textContent,
            error: item.querySelector('.error')?.textContent ?? null,
        }))"""
    )


def fits_the_width(dialog) -> bool:
    """Nothing in the dialog reaches past its right edge (no sideways scrolling on a phone)."""
    return dialog.evaluate(
        """dialog => dialog.scrollWidth <= dialog.clientWidth && [...dialog.querySelectorAll('.step *')]
            .every(part => part.getBoundingClientRect().right <= dialog.getBoundingClientRect().right)"""
    )


def test_the_details_show_the_workflow_steps_in_stepfunctions_mode_only(aws, emulator, browser, tmp_path):
    stepfunctions = web_of(aws, emulator, stack_of_workflow(aws, "stepfunctions"))
    direct = web_of(aws, emulator, stack_of_workflow(aws, "direct"))
    harbour = tmp_path / "harbour.jpg"
    scene = landscape(2400, 1600, ((70, 110, 170), (240, 200, 160)), (40, 80, 110))
    harbour.write_bytes(images.encode(scene, "JPEG", quality=88, exif=images.camera_exif()))
    notes = tmp_path / "notes.jpg"
    notes.write_bytes(images.TEXT)
    meadow = tmp_path / "meadow.jpg"
    meadow.write_bytes(images.jpeg(1200, 800))
    ARTIFACTS.mkdir(exist_ok=True)
    script_errors: list[str] = []
    uploaded: list[tuple[dict, str]] = []
    took = re.compile(r"^\d[\d,.\u202f\u00a0]*\u00a0ms$")

    desktop = browser.new_context(**DESKTOP)
    phone = browser.new_context(**PHONE)
    # Its own browser: the pages of both stacks share an origin, and so the remembered API key.
    direct_desktop = browser.new_context(**DESKTOP)
    try:
        page = open_page(desktop, stepfunctions, script_errors)
        page.set_input_files("#file-input", [str(notes), str(harbour)])
        wait_until_drawn(page, "harbour.jpg")
        expect(page.locator(".card.failed", has_text="notes.jpg")).to_contain_text(
            "This file is not an image.", timeout=60_000
        )
        uploaded += [
            (stepfunctions, item_of(stepfunctions, page, name)["ImageID"])
            for name in ("harbour.jpg", "notes.jpg")
        ]
        item = item_of(stepfunctions, page, "harbour.jpg")
        # The row is final at RecordRow; Notify still runs after it (and the dialog reads once).
        assert wait_for_execution(aws, item["ExecutionArn"])["status"] == "SUCCEEDED"
        api_steps = requests.get(
            f"{stepfunctions['api']}/images/{item['ImageID']}/steps",
            headers=stepfunctions["headers"],
            timeout=30,
        ).json()["steps"]

        # The execution's steps, in words, each with its outcome and how long it took.
        page.get_by_role("button", name="Details of harbour.jpg").first.click()
        dialog = page.locator("dialog#details")
        section = dialog.get_by_role("region", name="Workflow steps")
        expect(section.get_by_role("listitem")).to_have_count(3)
        steps = shown_steps(dialog)
        assert [(step["name"], step["words"], step["status"]) for step in steps] == [
            ("MakeRenditions", "Make renditions", "succeeded"),
            ("RecordRow", "Record row", "succeeded"),
            ("Notify", "Notify", "succeeded"),
        ]
        assert [step["name"] for step in steps] == [step["name"] for step in api_steps]
        assert all(took.match(step["took"]) and step["error"] is None for step in steps), steps
        expect(section.get_by_role("listitem").first).to_have_text(
            re.compile(r"^Make renditions succeeded \d")
        )
        expect(dialog.locator("#details-steps-note")).to_be_hidden()  # the execution succeeded
        page.wait_for_function("() => document.getElementById('details-preview').naturalWidth > 0")
        page.screenshot(path=str(ARTIFACTS / "web-details-steps-desktop.png"))
        dialog.get_by_role("button", name="Close").click()

        # A rejected upload: the attempt that failed says why, then the steps that recorded it.
        page.get_by_role("button", name="Details of notes.jpg").first.click()
        expect(section.get_by_role("listitem")).to_have_count(4)
        steps = shown_steps(dialog)
        assert [(step["name"], step["status"]) for step in steps] == [
            ("MakeRenditions", "failed"),
            ("RecordRejection", "succeeded"),
            ("RecordRow", "succeeded"),
            ("Notify", "succeeded"),
        ]
        # In words (the API's: the rejection's type, code and reason), not the JSON it carries.
        assert steps[0]["error"].startswith("ImageRejected") and "{" not in steps[0]["error"], steps
        dialog.get_by_role("button", name="Close").click()

        # Steps that cannot be loaded: one line says so, and the rest of the dialog works.
        page.route("**/images/*/steps", lambda route: route.abort("connectionrefused"))
        page.get_by_role("button", name="Details of harbour.jpg").first.click()
        expect(dialog.locator("#details-steps-note")).to_have_text(
            f"Cannot load the workflow steps: Cannot reach the pipeline's API ({stepfunctions['api']}). "
            "Is the emulator running? Start it with make up, then reload this page."
        )
        expect(section.get_by_role("listitem")).to_have_count(0)
        expect(dialog).to_contain_text("PROCESSED")
        dialog.get_by_role("button", name="Close").click()
        expect(dialog).to_be_hidden()

        # On a phone: the error wraps inside the dialog, no sideways scrolling.
        page = open_page(phone, stepfunctions, script_errors)
        wait_until_drawn(page, "harbour.jpg")
        page.get_by_role("button", name="Details of notes.jpg").first.click()
        dialog = page.locator("dialog#details")
        expect(dialog.locator("#details-steps-list li")).to_have_count(4)
        assert fits_the_width(dialog)
        dialog.locator("#details-steps").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "web-details-steps-phone.png"))
        dialog.get_by_role("button", name="Close").click()
        page.get_by_role("button", name="Details of harbour.jpg").first.click()
        expect(dialog.locator("#details-steps-list li")).to_have_count(3)
        assert fits_the_width(dialog)

        # Direct mode: one invocation did it all; no steps, not even a request for them.
        requested: list[str] = []
        page = open_page(direct_desktop, direct, script_errors)
        page.on("request", lambda request: requested.append(request.url))
        page.set_input_files("#file-input", [str(meadow)])
        wait_until_drawn(page, "meadow.jpg")
        uploaded.append((direct, item_of(direct, page, "meadow.jpg")["ImageID"]))
        page.get_by_role("button", name="Details of meadow.jpg").first.click()
        dialog = page.locator("dialog#details")
        expect(dialog).to_contain_text("PROCESSED")
        expect(dialog.locator("#details-steps")).to_be_hidden()
        expect(dialog.get_by_role("region", name="Workflow steps")).to_have_count(0)
        assert not [url for url in requested if url.endswith("/steps")]
    finally:
        for context in (desktop, phone, direct_desktop):
            context.close()
        for web, image_id in uploaded:
            requests.delete(f"{web['api']}/images/{image_id}", headers=web["headers"], timeout=30)
    assert not script_errors, script_errors


def test_the_page_asks_for_the_api_key_once_and_remembers_it(browser, web):
    context = browser.new_context(**DESKTOP)
    script_errors: list[str] = []
    try:
        page = open_page(context, web, script_errors, with_key=False)
        dialog = page.get_by_role("dialog", name="API key")
        expect(dialog).to_be_visible()
        expect(page.locator("#gallery-status")).to_have_text("The gallery needs the API key.")

        dialog.get_by_label("Key").fill("not-the-key")
        dialog.get_by_role("button", name="Save").click()
        expect(dialog.get_by_role("alert")).to_have_text("That key was refused. Check it and try again.")
        page.screenshot(path=ARTIFACTS / "web-api-key.png")

        dialog.get_by_label("Key").fill(web["key"])
        dialog.get_by_role("button", name="Save").click()
        expect(dialog).to_be_hidden()
        expect(page.locator("#gallery-status")).not_to_contain_text("API key")

        # Remembered: a reload asks nothing.
        page.reload()
        expect(page.get_by_role("heading", name="Gallery")).to_be_visible()
        page.wait_for_timeout(500)
        expect(dialog).to_be_hidden()
        assert script_errors == []
    finally:
        context.close()


def test_one_tab_stop_per_control_plain_errors_and_an_unreachable_api(browser, web, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list")
    context = browser.new_context(**DESKTOP)
    script_errors: list[str] = []
    try:
        page = open_page(context, web, script_errors)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "drop-zone"
        page.keyboard.press("Tab")  # past the drop zone: not into its hidden file input
        assert page.evaluate("document.activeElement.id") != "file-input"

        page.set_input_files("#file-input", [str(notes)])
        row = page.locator("#uploads li", has_text="notes.txt")
        expect(row).to_contain_text(
            "Not a photo the pipeline takes (JPEG, PNG, WebP, GIF, TIFF, BMP, HEIC or AVIF)."
        )
        expect(row).to_have_class("failed")
    finally:
        context.close()

    # The emulator is down (every call to the API fails): the page says what to do.
    offline = browser.new_context(**DESKTOP)
    try:
        offline.route(f"{web['api']}/**", lambda route: route.abort("connectionrefused"))
        page = open_page(offline, web, script_errors)
        expect(page.locator("#gallery-status")).to_have_text(
            f"Cannot load the gallery. Cannot reach the pipeline's API ({web['api']}). Is the emulator "
            "running? Start it with make up, then reload this page."
        )
    finally:
        offline.close()
    assert not script_errors, script_errors


def test_older_photos_load_as_the_gallery_scrolls(aws, browser, web):
    outputs = stack_outputs(aws)
    s3, table = aws("s3"), aws("dynamodb")
    keys = [f"e2e/paging/{index:03d}.png" for index in range(60)]
    for key in keys:
        s3.put_object(Bucket=outputs["UploadsBucketName"], Key=key, Body=images.png_with_alpha(32, 32))
    ids = [image_id_of(outputs["UploadsBucketName"], key) for key in keys]

    def processed(image_id: str) -> bool:
        key = {"ImageID": {"S": image_id}}
        item = table.get_item(TableName=outputs["ImageMetadataTableName"], Key=key).get("Item")
        return item is not None and item["Status"]["S"] == "PROCESSED"

    deadline = time.monotonic() + 120
    while not all(processed(image_id) for image_id in ids):
        assert time.monotonic() < deadline, "the paging test's uploads were not processed"
        time.sleep(0.5)
    context = browser.new_context(viewport={"width": 1280, "height": 700})
    script_errors: list[str] = []
    try:
        page = open_page(context, web, script_errors)
        cards = page.locator(".gallery .card")
        expect(cards).to_have_count(50)  # the newest page
        more = page.get_by_role("button", name="Show older photos")
        more.scroll_into_view_if_needed()  # reaching the end loads the next page, no click needed
        expect(cards).not_to_have_count(50)
        shown = cards.evaluate_all("cards => cards.map(card => card.dataset.imageId)")
        assert len(shown) == len(set(shown)) > 50  # older photos after the newer, none twice
        assert not script_errors, script_errors
    finally:
        context.close()
        for key in keys:
            s3.delete_object(Bucket=outputs["UploadsBucketName"], Key=key)
