"""Bad input ends as a FAILED row with an error code, no thumbnail, a FAILED notification; tricky
but valid input is PROCESSED. (The README's failure table lists the same cases.)"""

from __future__ import annotations

import io

import pytest
from image_pipeline.records import PROCESSED_ATTRIBUTES
from PIL import Image

from tests import images
from tests.e2e.pipeline.conftest import renditions_in_bucket

BAD_UPLOADS = {
    "zero bytes": ("empty.jpg", b"", "image/jpeg", "EMPTY_OBJECT"),
    "text named .jpg": ("notes.jpg", images.TEXT, "image/jpeg", "NOT_AN_IMAGE"),
    "random binary": ("blob.png", images.BINARY, "application/octet-stream", "NOT_AN_IMAGE"),
    "truncated JPEG": ("cut.jpg", images.jpeg(1200, 900)[:2000], "image/jpeg", "CORRUPT_IMAGE"),
    "truncated PNG": ("cut.png", images.png_with_alpha(600, 400)[:500], "image/png", "CORRUPT_IMAGE"),
    "PNG bomb 30000x30000": ("bomb.png", images.png_claiming(30000, 30000), "image/png", "IMAGE_TOO_LARGE"),
    "SVG": ("logo.svg", images.SVG, "image/svg+xml", "UNSUPPORTED_FORMAT"),
    "PDF": ("scan.pdf", images.PDF, "application/pdf", "UNSUPPORTED_FORMAT"),
}


def assert_failed_without_thumbnail(aws, stack, row: dict, code: str) -> None:
    assert row["Status"] == "FAILED"
    assert row["ErrorCode"] == code
    assert row["ErrorMessage"]
    assert not set(PROCESSED_ATTRIBUTES) & set(row)
    assert renditions_in_bucket(aws, stack, row["SourceKey"]) == []


@pytest.mark.parametrize("case", sorted(BAD_UPLOADS))
def test_bad_upload_ends_failed_with_its_code(aws, stack, upload, wait_for_row, notifications, case):
    name, data, content_type, code = BAD_UPLOADS[case]
    uploaded = upload(name, data, content_type)
    row = wait_for_row(uploaded.image_id)
    assert_failed_without_thumbnail(aws, stack, row, code)
    assert row["SourceSize"] == len(data)

    message, attributes = notifications.wait_for(uploaded.image_id)
    assert message["Status"] == "FAILED" and message["ErrorCode"] == code and message["ErrorMessage"]
    assert attributes["status"]["Value"] == "FAILED"


def test_upload_over_the_byte_limit_is_rejected_without_downloading_it(aws, stack, upload, wait_for_row):
    limit = int(
        aws("lambda").get_function_configuration(FunctionName=stack.function_name)["Environment"][
            "Variables"
        ]["MAX_UPLOAD_BYTES"]
    )
    # A real JPEG followed by padding: over the limit by one byte.
    head = images.jpeg(800, 600)
    uploaded = upload("too-big.jpg", head + bytes(limit + 1 - len(head)))
    row = wait_for_row(uploaded.image_id)
    assert_failed_without_thumbnail(aws, stack, row, "OBJECT_TOO_LARGE")
    assert row["SourceSize"] == limit + 1
    assert f"{limit:,}" in row["ErrorMessage"]


def cmyk_jpeg() -> bytes:
    return images.encode(images.photo(900, 600).convert("CMYK"), "JPEG")


def sixteen_bit_png() -> bytes:
    gradient = Image.linear_gradient("L").resize((800, 600)).point(lambda value: value * 256)
    return images.encode(gradient.convert("I;16"), "PNG")


def palette_png_with_transparency() -> bytes:
    image = Image.new("P", (600, 400), 0)
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    image.paste(1, (300, 0, 600, 400))
    return images.encode(image, "PNG", transparency=1)


def animated_webp() -> bytes:
    frames = [Image.new("RGB", (500, 300), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    return images.encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)


TRICKY_UPLOADS = {
    "CMYK JPEG": ("cmyk.jpg", cmyk_jpeg, "JPEG", "JPEG", (900, 600)),
    "16-bit PNG": ("deep.png", sixteen_bit_png, "PNG", "JPEG", (800, 600)),
    "palette PNG with transparency": ("palette.png", palette_png_with_transparency, "PNG", "PNG", (600, 400)),
    "greyscale JPEG": (
        "grey.jpg",
        lambda: images.encode(images.photo(700, 500, mode="L"), "JPEG"),
        "JPEG",
        "JPEG",
        (700, 500),
    ),
    "animated GIF": ("anim.gif", lambda: images.animated_gif(500, 300), "GIF", "JPEG", (500, 300)),
    "animated WebP": ("anim.webp", animated_webp, "WEBP", "JPEG", (500, 300)),
    "progressive JPEG": (
        "progressive.jpg",
        lambda: images.jpeg(2000, 1500, progressive=True),
        "JPEG",
        "JPEG",
        (2000, 1500),
    ),
    "HEIC (phone)": ("phone.heic", lambda: images.heic(1200, 900), "HEIF", "JPEG", (1200, 900)),
    "AVIF": ("picture.avif", lambda: images.avif(1200, 900), "AVIF", "JPEG", (1200, 900)),
    "TIFF": ("scan.tiff", lambda: images.encode(images.photo(800, 600), "TIFF"), "TIFF", "JPEG", (800, 600)),
    "BMP": ("paint.bmp", lambda: images.encode(images.photo(640, 480), "BMP"), "BMP", "JPEG", (640, 480)),
    "EXIF orientation 8": (
        "rotated.jpg",
        lambda: images.jpeg(1000, 500, orientation=8),
        "JPEG",
        "JPEG",
        (500, 1000),
    ),
}


@pytest.mark.parametrize("case", sorted(TRICKY_UPLOADS))
def test_tricky_but_valid_upload_is_processed(aws, upload, wait_for_row, case):
    name, make, source_format, thumbnail_format, upright_size = TRICKY_UPLOADS[case]
    uploaded = upload(name, make(), "application/octet-stream")
    row = wait_for_row(uploaded.image_id)
    assert row["Status"] == "PROCESSED", row
    assert row["SourceFormat"] == source_format
    assert (row["Width"], row["Height"]) == upright_size
    data = aws("s3").get_object(Bucket=row["ThumbnailBucket"], Key=row["ThumbnailKey"])["Body"].read()
    thumbnail = Image.open(io.BytesIO(data))
    assert thumbnail.format == thumbnail_format
    assert max(thumbnail.size) == 256
    assert (thumbnail.width > thumbnail.height) == (upright_size[0] > upright_size[1])
