"""Every status-code path of the REST API, through API Gateway and the API function."""

from __future__ import annotations

import time

import pytest
import requests

from tests import images

JSON = {"Content-Type": "application/json"}


def create_upload(api_url: str, filename: str, data: bytes, content_type: str = "image/jpeg") -> dict:
    response = requests.post(
        f"{api_url}/uploads", json={"filename": filename, "contentType": content_type, "size": len(data)}
    )
    assert response.status_code == 201, response.text
    return response.json()


def post_form(
    upload: dict, filename: str, data: bytes, content_type: str = "image/jpeg"
) -> requests.Response:
    return requests.post(upload["url"], data=upload["fields"], files={"file": (filename, data, content_type)})


def wait_for_item(api_url: str, image_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = requests.get(f"{api_url}/images/{image_id}")
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


def test_upload_through_presigned_post_then_get_list_and_delete(api_url):
    data = images.jpeg(1200, 800)
    created = create_upload(api_url, "holiday photo.jpg", data)
    assert created["key"].endswith("/holiday photo.jpg")
    assert created["expiresAt"].endswith("Z")
    assert post_form(created["upload"], "holiday photo.jpg", data).status_code in (200, 201, 204)

    item = wait_for_item(api_url, created["imageId"])
    assert item["Status"] == "PROCESSED" and item["ImageID"] == created["imageId"]
    assert (item["Width"], item["Height"]) == (1200, 800)
    original = requests.get(item["Urls"]["Original"])
    assert original.status_code == 200 and original.content == data
    thumbnail = requests.get(item["Urls"]["Thumbnail"])
    assert thumbnail.status_code == 200 and thumbnail.headers["Content-Type"] == "image/jpeg"

    listed = requests.get(f"{api_url}/images", params={"limit": 100}).json()
    assert created["imageId"] in [entry["ImageID"] for entry in listed["items"]]

    deleted = requests.delete(f"{api_url}/images/{created['imageId']}")
    assert deleted.status_code == 204
    assert_error(requests.get(f"{api_url}/images/{created['imageId']}"), 404, "IMAGE_NOT_FOUND")
    assert requests.get(item["Urls"]["Original"]).status_code == 404
    assert requests.get(item["Urls"]["Thumbnail"]).status_code == 404
    assert_error(requests.delete(f"{api_url}/images/{created['imageId']}"), 404, "IMAGE_NOT_FOUND")


def test_presigned_post_enforces_size_and_content_type(api_url):
    data = images.jpeg(400, 300)
    created = create_upload(api_url, "small.jpg", data)
    assert post_form(created["upload"], "small.jpg", data + bytes(10_000)).status_code == 400
    tampered = {**created["upload"], "fields": {**created["upload"]["fields"], "Content-Type": "text/html"}}
    assert post_form(tampered, "small.jpg", data).status_code in (400, 403)
    assert post_form(created["upload"], "small.jpg", data).status_code in (200, 201, 204)
    wait_for_item(api_url, created["imageId"])
    assert requests.delete(f"{api_url}/images/{created['imageId']}").status_code == 204


def test_a_failed_upload_is_listed_with_its_reason(api_url):
    created = create_upload(api_url, "notes.jpg", images.TEXT)
    post_form(created["upload"], "notes.jpg", images.TEXT)
    item = wait_for_item(api_url, created["imageId"])
    assert item["Status"] == "FAILED" and item["ErrorCode"] == "NOT_AN_IMAGE" and item["ErrorMessage"]
    assert item["Urls"]["Thumbnail"] is None
    requests.delete(f"{api_url}/images/{created['imageId']}")


def test_gallery_is_newest_first_and_paginates(api_url):
    ids = []
    for number in range(3):
        data = images.jpeg(200 + number, 100)
        created = create_upload(api_url, f"page-{number}.jpg", data)
        post_form(created["upload"], f"page-{number}.jpg", data)
        wait_for_item(api_url, created["imageId"])
        ids.append(created["imageId"])
    seen, token = [], None
    while True:
        page = requests.get(
            f"{api_url}/images", params={"limit": 2, **({"next": token} if token else {})}
        ).json()
        assert len(page["items"]) <= 2
        seen.extend(item["ImageID"] for item in page["items"])
        token = page["next"]
        if not token:
            break
    created_at = [requests.get(f"{api_url}/images/{image_id}").json()["CreatedAt"] for image_id in ids]
    assert created_at == sorted(created_at)
    positions = [seen.index(image_id) for image_id in ids]
    assert positions == sorted(positions, reverse=True), "newest first"
    assert len(seen) == len(set(seen))
    for image_id in ids:
        requests.delete(f"{api_url}/images/{image_id}")


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
def test_bad_upload_requests_are_400(api_url, body, code):
    assert_error(requests.post(f"{api_url}/uploads", json=body), 400, code)


def test_non_json_body_is_400(api_url):
    assert_error(requests.post(f"{api_url}/uploads", data="{not json", headers=JSON), 400, "INVALID_BODY")


@pytest.mark.parametrize("image_id", ["zzz", "0123", "0123456789ABCDEF0123456789ABCDEF"])
def test_malformed_ids_are_400(api_url, image_id):
    assert_error(requests.get(f"{api_url}/images/{image_id}"), 400, "INVALID_IMAGE_ID")
    assert_error(requests.delete(f"{api_url}/images/{image_id}"), 400, "INVALID_IMAGE_ID")


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"next": "garbage!"}])
def test_bad_list_parameters_are_400(api_url, params):
    response = requests.get(f"{api_url}/images", params=params)
    assert response.status_code == 400 and response.json()["error"]["code"] in (
        "INVALID_LIMIT",
        "INVALID_PAGE_TOKEN",
    )


def test_cors_lets_the_web_page_call_the_api(api_url):
    preflight = requests.options(
        f"{api_url}/uploads",
        headers={"Origin": "http://example.test", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code in (200, 204)
    response = requests.get(f"{api_url}/images", headers={"Origin": "http://example.test"})
    assert response.headers.get("Access-Control-Allow-Origin") == "*"
