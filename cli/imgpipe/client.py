"""The pipeline's REST API, found through the stack's Outputs (emulator by default, or AWS)."""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import boto3
import requests

from imgpipe import describe
from imgpipe.settings import emulator_endpoint, emulator_setting

FINAL_STATUSES = ("PROCESSED", "FAILED")
# What the API accepts, by file extension (mimetypes does not know every phone format).
CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".bmp": "image/bmp",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".avif": "image/avif",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message


class StackTooOldError(Exception):
    pass


@dataclass(frozen=True)
class Target:
    api_url: str
    web_url: str
    api_key: str


def aws_client(service: str, use_aws: bool, profile: str | None, region: str | None):
    """A client on AWS (use_aws) or in the emulator."""
    if use_aws or profile:
        return boto3.Session(profile_name=profile, region_name=region).client(service)
    session = boto3.Session(
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name=region or emulator_setting("AWS_DEFAULT_REGION"),
    )
    return session.client(service, endpoint_url=emulator_endpoint())


def cloudformation_client(use_aws: bool, profile: str | None, region: str | None):
    """CloudFormation, where the stack's Outputs are."""
    return aws_client("cloudformation", use_aws, profile, region)


def find_target(stack_name: str, use_aws: bool, profile: str | None, region: str | None) -> Target:
    """The API (with its key) and web page of the stack, on the emulator or (use_aws) on AWS."""
    cloudformation = cloudformation_client(use_aws, profile, region)
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    # The key's value is not an output (outputs are readable by anyone who may describe the stack);
    # reading it needs apigateway:GET on the key.
    if "ApiKeyId" not in outputs:
        raise StackTooOldError(f"the stack {stack_name} predates API keys: update it with `make deploy`")
    apigateway = aws_client("apigateway", use_aws, profile, region)
    api_key = apigateway.get_api_key(apiKey=outputs["ApiKeyId"], includeValue=True)["value"]
    if use_aws or profile:
        return Target(api_url=outputs["ApiUrl"], web_url=outputs["WebUrl"], api_key=api_key)
    endpoint = emulator_endpoint()  # the one this machine reaches, whatever the deploy published
    return Target(
        api_url=f"{endpoint}/_aws/execute-api/{outputs['ApiId']}/api",
        web_url=f"{endpoint}/{outputs['WebBucketName']}/index.html",
        api_key=api_key,
    )


def content_type_of(path: Path) -> str:
    return (
        CONTENT_TYPES.get(path.suffix.lower())
        or mimetypes.guess_type(path.name)[0]
        or "application/octet-stream"
    )


class ProgressReader:
    """A file-like body that reports how many bytes of the file in it have been sent (not of the
    form fields around it, so progress ends at the file's size)."""

    def __init__(self, data: bytes, on_progress: Callable[[int], None], file_at: slice) -> None:
        self._data, self._position, self._on_progress = data, 0, on_progress
        self._file_start, self._file_size = file_at.start, file_at.stop - file_at.start

    def __len__(self) -> int:
        return len(self._data)

    def _file_sent(self) -> int:
        return min(max(self._position - self._file_start, 0), self._file_size)

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size is None or size < 0 else min(len(self._data), self._position + size)
        chunk = self._data[self._position : end]
        before = self._file_sent()
        self._position = end
        self._on_progress(self._file_sent() - before)
        return chunk


def multipart(
    fields: dict[str, str], filename: str, data: bytes, content_type: str
) -> tuple[bytes, str, slice]:
    """The form's body, its content type, and where the file is in the body."""
    boundary = f"imgpipe-{time.time_ns()}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    quoted = filename.replace('"', "%22")
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
    )
    start = sum(len(part) for part in parts)
    parts.extend((data, f"\r\n--{boundary}--\r\n".encode()))
    return b"".join(parts), f"multipart/form-data; boundary={boundary}", slice(start, start + len(data))


class PipelineClient:
    def __init__(self, api_url: str, api_key: str, timeout: float = 30) -> None:
        self.api_url = api_url.rstrip("/")
        self._http = requests.Session()
        self._api_key = api_key  # sent to the API only, never with the uploads to S3
        self._timeout = timeout

    def _call(self, method: str, path: str, **kwargs) -> dict | None:
        response = self._http.request(
            method,
            f"{self.api_url}{path}",
            headers={"x-api-key": self._api_key},
            timeout=self._timeout,
            **kwargs,
        )
        if response.status_code == 204:
            return None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            # Not the API's JSON: a proxy, or the emulator answering for an API that is not there.
            raise ApiError(
                response.status_code,
                "BAD_RESPONSE",
                f"HTTP {response.status_code} from {self.api_url}: {response.text.strip()[:200]!r}",
            )
        if not response.ok:
            error = body.get("error") or {}
            raise ApiError(
                response.status_code,
                error.get("code", "ERROR"),
                error.get("message") or body.get("message") or f"HTTP {response.status_code}",
            )
        return body

    def upload(self, path: Path, on_progress: Callable[[int], None]) -> str:
        """Upload a file through a presigned POST; returns its image id."""
        data = path.read_bytes()
        content_type = content_type_of(path)
        created = self._call(
            "POST", "/uploads", json={"filename": path.name, "contentType": content_type, "size": len(data)}
        )
        body, form_type, file_at = multipart(created["upload"]["fields"], path.name, data, content_type)
        response = self._http.post(
            created["upload"]["url"],
            data=ProgressReader(body, on_progress, file_at),
            headers={"Content-Type": form_type},
            timeout=max(self._timeout, 300),
        )
        if not response.ok:
            raise ApiError(response.status_code, "UPLOAD_REFUSED", response.text[:300])
        return created["imageId"]

    def wait_until_final(self, image_id: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            try:
                item = self.get(image_id)
                if item["Status"] in FINAL_STATUSES:
                    return item
            except ApiError as error:
                if error.status != 404:
                    raise
            if time.monotonic() > deadline:
                raise ApiError(408, "STILL_PROCESSING", f"{image_id} not processed within {timeout:.0f} s")
            time.sleep(0.2)

    def get(self, image_id: str) -> dict:
        return self._call("GET", f"/images/{quote(image_id, safe='')}")

    def steps(self, image_id: str) -> dict:
        """The workflow execution behind the image's row and its steps (none in direct mode)."""
        return self._call("GET", f"/images/{quote(image_id, safe='')}/steps")

    def delete(self, image_id: str) -> None:
        self._call("DELETE", f"/images/{quote(image_id, safe='')}")

    def share(self, image_id: str, expires_in: int | None = None) -> dict:
        """A link to the image's watermarked proof: {token, url, expiresAt}."""
        body = {"expiresIn": expires_in} if expires_in is not None else None
        return self._call("POST", f"/images/{quote(image_id, safe='')}/share", json=body)

    def revoke_share(self, image_id: str, token: str) -> None:
        self._call("DELETE", f"/images/{quote(image_id, safe='')}/share/{quote(token, safe='')}")

    def resolve_id(self, given: str) -> str:
        """A whole image id for what was typed: a whole id as it is, a prefix looked up (as git does)."""
        given = given.strip().lower()
        if len(given) == 32:
            return given
        return describe.matching_id(given, [item["ImageID"] for item in self.images()])

    def images(self, limit: int | None = None) -> Iterator[dict]:
        """Newest first, across pages, at most `limit`."""
        token, seen = None, 0
        while True:
            page = self._call("GET", "/images", params={"limit": 100, **({"next": token} if token else {})})
            for item in page["items"]:
                if limit is not None and seen >= limit:
                    return
                seen += 1
                yield item
            token = page["next"]
            if not token:
                return
