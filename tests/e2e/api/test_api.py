"""Every status-code path of the REST API, through API Gateway and the API function."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from PIL import Image

from tests import images

JSON = {"Content-Type": "application/json"}


def create_upload(api, api_url: str, filename: str, data: bytes, content_type: str = "image/jpeg") -> dict:
    response = api.post(
        f"{api_url}/uploads", json={"filename": filename, "contentType": content_type, "size": len(data)}
    )
    assert response.status_code == 201, response.text
    return response.json()


def post_form(
    upload: dict, filename: str, data: bytes, content_type: str = "image/jpeg"
) -> requests.Response:
    return requests.post(upload["url"], data=upload["fields"], files={"file": (filename, data, content_type)})


def wait_for_item(api, api_url: str, image_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = api.get(f"{api_url}/images/{image_id}")
        if response.status_code == 200 and response.json()["Status"] in ("PROCESSED", "FAILED"):
            return response.json()
        assert response.status_code in (200, 404), response.text
        time.sleep(0.1)
    raise AssertionError(f"image {image_id} was not processed within {timeout} s")


def assert_error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"]
    assert "Traceback" not in response.text


def test_upload_through_presigned_post_then_get_list_and_delete(api, api_url):
    data = images.jpeg(1200, 800)
    created = create_upload(api, api_url, "holiday photo.jpg", data)
    assert created["key"].endswith("/holiday photo.jpg")
    assert created["expiresAt"].endswith("Z")
    assert post_form(created["upload"], "holiday photo.jpg", data).status_code in (200, 201, 204)

    item = wait_for_item(api, api_url, created["imageId"])
    assert item["Status"] == "PROCESSED" and item["ImageID"] == created["imageId"]
    assert (item["Width"], item["Height"]) == (1200, 800)
    original = requests.get(item["Urls"]["Original"])
    assert original.status_code == 200 and original.content == data
    thumbnail = requests.get(item["Urls"]["Thumbnail"])
    assert thumbnail.status_code == 200 and thumbnail.headers["Content-Type"] == "image/jpeg"

    listed = api.get(f"{api_url}/images", params={"limit": 100}).json()
    assert created["imageId"] in [entry["ImageID"] for entry in listed["items"]]

    deleted = api.delete(f"{api_url}/images/{created['imageId']}")
    assert deleted.status_code == 204
    assert_error(api.get(f"{api_url}/images/{created['imageId']}"), 404, "IMAGE_NOT_FOUND")
    assert requests.get(item["Urls"]["Original"]).status_code == 404
    # The original's S3 event removes the thumbnail, web and proof renditions.
    deadline = time.monotonic() + 30
    while any(requests.get(url).status_code != 404 for url in item["Urls"]["Renditions"].values()):
        assert time.monotonic() < deadline, "renditions still there 30 s after the delete"
        time.sleep(0.1)
    assert_error(api.delete(f"{api_url}/images/{created['imageId']}"), 404, "IMAGE_NOT_FOUND")


def test_presigned_post_enforces_size_and_content_type(api, api_url):
    data = images.jpeg(400, 300)
    created = create_upload(api, api_url, "small.jpg", data)
    assert post_form(created["upload"], "small.jpg", data + bytes(10_000)).status_code == 400
    tampered = {**created["upload"], "fields": {**created["upload"]["fields"], "Content-Type": "text/html"}}
    assert post_form(tampered, "small.jpg", data).status_code in (400, 403)
    assert post_form(created["upload"], "small.jpg", data).status_code in (200, 201, 204)
    wait_for_item(api, api_url, created["imageId"])
    assert api.delete(f"{api_url}/images/{created['imageId']}").status_code == 204


def test_a_failed_upload_is_listed_with_its_reason(api, api_url):
    created = create_upload(api, api_url, "notes.jpg", images.TEXT)
    post_form(created["upload"], "notes.jpg", images.TEXT)
    item = wait_for_item(api, api_url, created["imageId"])
    assert item["Status"] == "FAILED" and item["ErrorCode"] == "NOT_AN_IMAGE" and item["ErrorMessage"]
    assert item["Urls"]["Thumbnail"] is None
    api.delete(f"{api_url}/images/{created['imageId']}")


def test_gallery_is_newest_first_and_paginates(api, api_url):
    ids = []
    for number in range(3):
        data = images.jpeg(200 + number, 100)
        created = create_upload(api, api_url, f"page-{number}.jpg", data)
        post_form(created["upload"], f"page-{number}.jpg", data)
        wait_for_item(api, api_url, created["imageId"])
        ids.append(created["imageId"])
    seen, token = [], None
    while True:
        page = api.get(f"{api_url}/images", params={"limit": 2, **({"next": token} if token else {})}).json()
        assert len(page["items"]) <= 2
        seen.extend(item["ImageID"] for item in page["items"])
        token = page["next"]
        if not token:
            break
    created_at = [api.get(f"{api_url}/images/{image_id}").json()["CreatedAt"] for image_id in ids]
    assert created_at == sorted(created_at)
    positions = [seen.index(image_id) for image_id in ids]
    assert positions == sorted(positions, reverse=True), "newest first"
    assert len(seen) == len(set(seen))
    for image_id in ids:
        api.delete(f"{api_url}/images/{image_id}")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"filename": "x.txt", "contentType": "text/plain", "size": 10}, "UNSUPPORTED_CONTENT_TYPE"),
        ({"filename": "x.jpg", "contentType": "image/jpeg", "size": 10**12}, "INVALID_SIZE"),
        ({"filename": "x.jpg", "contentType": "image/jpeg", "size": 0}, "INVALID_SIZE"),
        ({"filename": "x.jpg", "contentType": "image/jpeg", "size": "10"}, "INVALID_SIZE"),
        ({"filename": "../etc/passwd", "contentType": "image/jpeg", "size": 10}, "INVALID_FILENAME"),
        ({"filename": "", "contentType": "image/jpeg", "size": 10}, "INVALID_FILENAME"),
        ({"contentType": "image/jpeg", "size": 10}, "INVALID_FILENAME"),
        (["not", "an", "object"], "INVALID_BODY"),
    ],
)
def test_bad_upload_requests_are_400(api, api_url, body, code):
    assert_error(api.post(f"{api_url}/uploads", json=body), 400, code)


def test_non_json_body_is_400(api, api_url):
    assert_error(api.post(f"{api_url}/uploads", data="{not json", headers=JSON), 400, "INVALID_BODY")


@pytest.mark.parametrize("image_id", ["zzz", "0123", "0123456789ABCDEF0123456789ABCDEF"])
def test_malformed_ids_are_400(api, api_url, image_id):
    assert_error(api.get(f"{api_url}/images/{image_id}"), 400, "INVALID_IMAGE_ID")
    assert_error(api.delete(f"{api_url}/images/{image_id}"), 400, "INVALID_IMAGE_ID")


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"next": "garbage!"}])
def test_bad_list_parameters_are_400(api, api_url, params):
    response = api.get(f"{api_url}/images", params=params)
    assert response.status_code == 400 and response.json()["error"]["code"] in (
        "INVALID_LIMIT",
        "INVALID_PAGE_TOKEN",
    )


def test_cors_lets_the_web_page_call_the_api(api, api_url):
    preflight = requests.options(
        f"{api_url}/uploads",
        headers={"Origin": "http://example.test", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code in (200, 204)
    response = api.get(f"{api_url}/images", headers={"Origin": "http://example.test"})
    assert response.headers.get("Access-Control-Allow-Origin") == "*"


# --- Renditions and proof share links -------------------------------------------------------------


def processed_image(api, api_url: str, filename: str, data: bytes, content_type: str = "image/jpeg") -> dict:
    created = create_upload(api, api_url, filename, data, content_type)
    assert post_form(created["upload"], filename, data, content_type).status_code in (200, 201, 204)
    return wait_for_item(api, api_url, created["imageId"])


def decoded(response: requests.Response) -> Image.Image:
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def test_an_image_links_every_rendition(api, api_url):
    item = processed_image(api, api_url, "links.jpg", images.jpeg(2000, 1500))
    assert set(item["Urls"]["Renditions"]) == set(item["Renditions"]) == {"thumbnail", "web", "proof"}
    for name, url in item["Urls"]["Renditions"].items():
        image = decoded(requests.get(url))
        entry = item["Renditions"][name]
        assert image.size == (entry["Width"], entry["Height"]) and image.format == entry["Format"]
    assert item["Renditions"]["web"]["Format"] == "WEBP" and item["Renditions"]["web"]["Width"] == 1600
    assert item["Urls"]["Thumbnail"].split("?")[0] == item["Urls"]["Renditions"]["thumbnail"].split("?")[0]
    api.delete(f"{api_url}/images/{item['ImageID']}")


def test_a_share_link_redirects_to_the_proof_and_nothing_else(api, api_url):
    item = processed_image(api, api_url, "to-the-client.jpg", images.jpeg(1800, 1200))
    response = api.post(f"{api_url}/images/{item['ImageID']}/share", json={"expiresIn": 3600})
    assert response.status_code == 201, response.text
    share = response.json()
    assert share["url"] == f"{api_url}/share/{share['token']}"
    expires = datetime.fromisoformat(share["expiresAt"])
    assert abs((expires - datetime.now(UTC)).total_seconds() - 3600) < 60

    redirect = requests.get(share["url"], allow_redirects=False)
    assert redirect.status_code == 302 and redirect.headers["Cache-Control"] == "no-store"
    location = redirect.headers["Location"]
    assert item["Renditions"]["proof"]["Key"].split("/")[-1] in location
    assert int(parse_qs(urlparse(location).query)["X-Amz-Expires"][0]) <= 300  # short-lived
    proof = decoded(requests.get(share["url"]))  # followed: the proof itself, no credentials
    assert proof.format == "JPEG" and proof.size == (1024, 683)
    assert not proof.getexif()
    api.delete(f"{api_url}/images/{item['ImageID']}")


def test_a_share_link_expires_and_can_be_revoked(api, api_url):
    item = processed_image(api, api_url, "short-lived.jpg", images.jpeg(800, 600))
    path = f"{api_url}/images/{item['ImageID']}/share"
    short = api.post(path, json={"expiresIn": 2}).json()
    assert requests.get(short["url"], allow_redirects=False).status_code == 302
    long = api.post(path).json()  # no body: the default, 3 days
    assert abs((datetime.fromisoformat(long["expiresAt"]) - datetime.now(UTC)).total_seconds() - 259200) < 60
    time.sleep(3)
    assert_error(requests.get(short["url"]), 410, "SHARE_GONE")
    page = requests.get(short["url"], headers={"Accept": "text/html,application/xhtml+xml"})  # a browser
    assert page.status_code == 410 and page.headers["Content-Type"].startswith("text/html")
    assert "has expired" in page.text and "Ask the photographer" in page.text

    assert requests.get(long["url"], allow_redirects=False).status_code == 302
    assert api.delete(f"{path}/{long['token']}").status_code == 204
    assert_error(requests.get(long["url"]), 410, "SHARE_GONE")
    assert_error(api.delete(f"{path}/{'x' * 32}"), 404, "SHARE_NOT_FOUND")

    again = api.post(path).json()
    api.delete(f"{api_url}/images/{item['ImageID']}")
    assert_error(requests.get(again["url"]), 410, "SHARE_GONE")  # the image is gone


@pytest.mark.parametrize("body", [{"expiresIn": 0}, {"expiresIn": 604801}, {"expiresIn": "3d"}, {"other": 1}])
def test_bad_share_requests_are_400(api, api_url, body):
    response = api.post(f"{api_url}/images/{'0' * 32}/share", json=body)
    assert response.status_code == 400 and response.json()["error"]["code"] in (
        "INVALID_EXPIRY",
        "INVALID_BODY",
    )


def test_sharing_needs_a_proof(api, api_url):
    assert_error(api.post(f"{api_url}/images/{'0' * 32}/share"), 404, "IMAGE_NOT_FOUND")
    data = images.TEXT
    created = create_upload(api, api_url, "notes.jpg", data)
    post_form(created["upload"], "notes.jpg", data)
    assert wait_for_item(api, api_url, created["imageId"])["Status"] == "FAILED"
    assert_error(api.post(f"{api_url}/images/{created['imageId']}/share"), 409, "NO_PROOF")
    api.delete(f"{api_url}/images/{created['imageId']}")


@pytest.mark.parametrize("token", ["nope", "A" * 32, "A" * 31 + "!"])
def test_unknown_share_links_are_404(api, api_url, token):
    # Share links need no key: they are for people without credentials.
    assert_error(requests.get(f"{api_url}/share/{token}"), 404, "SHARE_NOT_FOUND")


def test_a_share_link_shares_one_photo_not_whatever_is_uploaded_under_its_key_later(aws, api, api_url):
    item = processed_image(api, api_url, "first-take.jpg", images.jpeg(900, 600))
    share = api.post(f"{api_url}/images/{item['ImageID']}/share").json()
    assert requests.get(share["url"], allow_redirects=False).status_code == 302

    aws("s3").put_object(Bucket=item["SourceBucket"], Key=item["SourceKey"], Body=images.jpeg(600, 900))
    deadline = time.monotonic() + 30
    while api.get(f"{api_url}/images/{item['ImageID']}").json()["SourceETag"] == item["SourceETag"]:
        assert time.monotonic() < deadline, "the new content was never processed"
        time.sleep(0.1)
    assert_error(requests.get(share["url"]), 410, "SHARE_GONE")
    api.delete(f"{api_url}/images/{item['ImageID']}")
