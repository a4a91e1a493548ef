"""The REST API (API Gateway REST, Lambda proxy): presigned uploads, the gallery, deletes, proof links.

Every error is JSON `{"error": {"code", "message"}}` with its HTTP status; never a stack trace.
api/openapi.yaml describes exactly these routes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from http import HTTPStatus

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from image_pipeline import gallery, records, sharing
from image_pipeline.adapters.dynamodb import MetadataTable
from image_pipeline.adapters.s3 import ObjectStore
from image_pipeline.adapters.shares import ShareTable
from image_pipeline.adapters.workflow import Executions
from image_pipeline.errors import (
    ImageNotFoundError,
    InvalidRequestError,
    ShareGoneError,
    ShareNotFoundError,
    StorageError,
)
from image_pipeline.records import iso_utc
from image_pipeline.renditions import PROOF
from image_pipeline.settings import ApiSettings

logger = Logger()
settings = ApiSettings.from_environment()
path_style = Config(s3={"addressing_style": "path"}, signature_version="s3v4")
objects = ObjectStore(
    boto3.client("s3", config=path_style),
    boto3.client("s3", endpoint_url=settings.public_s3_endpoint, config=path_style)
    if settings.public_s3_endpoint
    else None,
)
dynamodb = boto3.client("dynamodb")
table = MetadataTable(dynamodb, settings.metadata_table)
shares = ShareTable(dynamodb, settings.shares_table)


@cache
def executions() -> Executions:
    """Step Functions, created on the first steps request (direct mode's API never needs it;
    a client costs milliseconds of every cold start)."""
    return Executions(boto3.client("stepfunctions"))


app = APIGatewayRestResolver(cors=CORSConfig(allow_origin="*", max_age=600))


def error(status: HTTPStatus, code: str, message: str) -> Response:
    return Response(
        status_code=status,
        content_type="application/json",
        body={"error": {"code": code, "message": message}},
    )


@app.exception_handler(InvalidRequestError)
def invalid_request(failure: InvalidRequestError) -> Response:
    return error(HTTPStatus.BAD_REQUEST, failure.code, failure.message)


@app.exception_handler(ImageNotFoundError)
def image_not_found(failure: ImageNotFoundError) -> Response:
    return error(HTTPStatus.NOT_FOUND, "IMAGE_NOT_FOUND", str(failure))


@app.exception_handler(ShareNotFoundError)
def share_not_found(failure: ShareNotFoundError) -> Response:
    return error(HTTPStatus.NOT_FOUND, "SHARE_NOT_FOUND", str(failure))


@app.exception_handler(ShareGoneError)
def share_gone(failure: ShareGoneError) -> Response:
    return error(HTTPStatus.GONE, "SHARE_GONE", str(failure))


@app.not_found
def route_not_found(_: NotFoundError) -> Response:
    return error(
        HTTPStatus.NOT_FOUND,
        "ROUTE_NOT_FOUND",
        f"no route {app.current_event.http_method} {app.current_event.path}",
    )


@app.exception_handler(StorageError)
def storage_failed(failure: StorageError) -> Response:
    logger.exception("storage failed")
    return error(HTTPStatus.SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE", "a storage service failed; try again")


@app.exception_handler(Exception)
def unexpected(failure: Exception) -> Response:
    logger.exception("unexpected error")
    return error(HTTPStatus.INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "something went wrong on our side")


def item_for_client(row: records.Row) -> dict:
    expiry = settings.url_expiry_seconds
    original = objects.presigned_get(str(row["SourceBucket"]), str(row["SourceKey"]), expiry)
    thumbnail = (
        objects.presigned_get(str(row["ThumbnailBucket"]), str(row["ThumbnailKey"]), expiry)
        if "ThumbnailKey" in row
        else None
    )
    renditions = {
        name: objects.presigned_get(str(entry["Bucket"]), str(entry["Key"]), expiry)
        for name, entry in records.renditions_of(row).items()
    }
    return gallery.public_item(row, original, thumbnail, renditions)


def existing_row(image_id: str) -> records.Row:
    row = table.get(gallery.parse_image_id(image_id))
    if not records.is_shown(row):
        raise ImageNotFoundError(f"no image {image_id}")
    assert row is not None
    return row


def api_base_url() -> str:
    """Where clients reach this API: configured locally, from the request on AWS."""
    if settings.public_api_url:
        return settings.public_api_url
    context = app.current_event.request_context
    return f"https://{context.domain_name}/{context.stage}"


@app.post("/uploads")
def create_upload() -> Response:
    try:
        body = app.current_event.json_body
    except ValueError as failure:
        raise InvalidRequestError("INVALID_BODY", "the body must be JSON") from failure
    request = gallery.parse_upload_request(body, settings.max_upload_bytes)
    key = gallery.upload_key(request)
    upload = objects.presigned_post(
        settings.uploads_bucket, key, request.content_type, request.size, settings.url_expiry_seconds
    )
    expires_at = datetime.now(UTC) + timedelta(seconds=settings.url_expiry_seconds)
    return Response(
        status_code=HTTPStatus.CREATED,
        content_type="application/json",
        body={
            "imageId": records.image_id(settings.uploads_bucket, key),
            "key": key,
            "upload": upload,
            "expiresAt": iso_utc(expires_at),
        },
    )


@app.get("/images")
def list_images() -> dict:
    parameters = app.current_event.query_string_parameters or {}
    limit = gallery.parse_page_size(parameters.get("limit"))
    rows, last_key = table.newest(limit, gallery.decode_page_token(parameters.get("next")))
    return {
        "items": [item_for_client(row) for row in rows if records.is_shown(row)],
        "next": gallery.encode_page_token(last_key),
    }


@app.get("/images/<image_id>")
def get_image(image_id: str) -> dict:
    return item_for_client(existing_row(image_id))


@app.get("/images/<image_id>/steps")
def get_image_steps(image_id: str) -> dict:
    """Which steps made the current row, how long each took and why one failed (stepfunctions
    mode); direct mode's rows name no execution."""
    execution_arn = existing_row(image_id).get("ExecutionArn")
    if not execution_arn:
        return {"executionArn": None, "status": None, "steps": []}
    status, steps = executions().steps(str(execution_arn))
    return {"executionArn": execution_arn, "status": status, "steps": [step.as_dict() for step in steps]}


@app.delete("/images/<image_id>")
def delete_image(image_id: str) -> Response:
    """Delete the original, and only that: its S3 event takes the one removal path (renditions,
    the DELETED notification, the row), as for a delete from anywhere else. Until then the row is
    hidden, so the image is gone for clients at once."""
    row = existing_row(image_id)
    objects.delete(str(row["SourceBucket"]), str(row["SourceKey"]))
    table.hide(row, records.utc_now())
    return Response(status_code=HTTPStatus.NO_CONTENT, content_type="application/json", body=None)


@app.post("/images/<image_id>/share")
def share_proof(image_id: str) -> Response:
    try:
        body = app.current_event.json_body if app.current_event.body else None
    except ValueError as failure:
        raise InvalidRequestError("INVALID_BODY", "the body must be JSON") from failure
    seconds = sharing.parse_expiry(body)
    row = existing_row(image_id)
    proof = records.renditions_of(row).get(PROOF)
    if proof is None:
        return error(
            HTTPStatus.CONFLICT,
            "NO_PROOF",
            "this image has no proof to share (it is not processed, or has no proof rendition)",
        )
    share = sharing.new_share(str(row["ImageID"]), str(row["SourceETag"]), seconds, datetime.now(UTC))
    shares.create(share)
    return Response(
        status_code=HTTPStatus.CREATED,
        content_type="application/json",
        body={
            "token": share.token,
            "url": f"{api_base_url()}/share/{share.token}",
            "expiresAt": share.expires_at,
        },
    )


@app.delete("/images/<image_id>/share/<token>")
def revoke_share(image_id: str, token: str) -> Response:
    gallery.parse_image_id(image_id)
    if not sharing.is_token(token) or not shares.revoke(image_id, token, records.utc_now()):
        raise ShareNotFoundError(f"image {image_id} has no share link {token}")
    return Response(status_code=HTTPStatus.NO_CONTENT, content_type="application/json", body=None)


@app.route("/share/<token>", method=["GET", "HEAD"])
def open_share(token: str) -> Response:
    """The public link: a redirect to a fresh, short-lived link to the proof, and nothing else."""
    try:
        share = shares.get(token) if sharing.is_token(token) else None
        if share is None:
            raise ShareNotFoundError("no such share link")
        left = sharing.seconds_left(share, datetime.now(UTC))
        row = table.get(share.image_id)
        proof = records.renditions_of(row).get(PROOF) if records.is_shown(row) else None
        if proof is None or row is None or row["SourceETag"] != share.source_etag:
            raise ShareGoneError("the shared photo was deleted or replaced since this link was made")
    except (ShareNotFoundError, ShareGoneError) as failure:
        if wants_html():  # a client who clicked the link reads a sentence, not JSON
            gone = isinstance(failure, ShareGoneError)
            return Response(
                status_code=HTTPStatus.GONE if gone else HTTPStatus.NOT_FOUND,
                content_type="text/html; charset=utf-8",
                body=sharing.unavailable_page(str(failure)),
                headers={"Cache-Control": "no-store"},
            )
        raise
    url = objects.presigned_get(
        str(proof["Bucket"]), str(proof["Key"]), min(left, settings.url_expiry_seconds)
    )
    return Response(
        status_code=HTTPStatus.FOUND,
        content_type="text/plain",
        body="",
        headers={"Location": url, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def wants_html() -> bool:
    accept = (app.current_event.headers or {}).get("Accept") or (app.current_event.headers or {}).get(
        "accept"
    )
    return "text/html" in (accept or "")


@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
