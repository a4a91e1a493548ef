"""The REST API (API Gateway REST, Lambda proxy): presigned uploads, the gallery, deletes.

Every error is JSON `{"error": {"code", "message"}}` with its HTTP status; never a stack trace.
api/openapi.yaml describes exactly these routes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from image_pipeline import gallery, records
from image_pipeline.adapters.dynamodb import MetadataTable
from image_pipeline.adapters.s3 import ObjectStore
from image_pipeline.errors import ImageNotFoundError, InvalidRequestError, StorageError
from image_pipeline.records import iso_utc
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
table = MetadataTable(boto3.client("dynamodb"), settings.metadata_table)
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
    return gallery.public_item(row, original, thumbnail)


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
    return {"items": [item_for_client(row) for row in rows], "next": gallery.encode_page_token(last_key)}


@app.get("/images/<image_id>")
def get_image(image_id: str) -> dict:
    row = table.get(gallery.parse_image_id(image_id))
    if row is None:
        raise ImageNotFoundError(f"no image {image_id}")
    return item_for_client(row)


@app.delete("/images/<image_id>")
def delete_image(image_id: str) -> Response:
    row = table.delete(gallery.parse_image_id(image_id))
    if row is None:
        raise ImageNotFoundError(f"no image {image_id}")
    if "ThumbnailKey" in row:
        objects.delete(str(row["ThumbnailBucket"]), str(row["ThumbnailKey"]))
    objects.delete(str(row["SourceBucket"]), str(row["SourceKey"]))
    return Response(status_code=HTTPStatus.NO_CONTENT, content_type="application/json", body=None)


@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
