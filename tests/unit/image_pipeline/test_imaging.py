"""The thumbnail core with real Pillow on images made here."""

from __future__ import annotations

import io

import pytest
from image_pipeline.errors import ErrorCode, ImageRejectedError
from image_pipeline.imaging import fit_within, make_thumbnail
from PIL import Image, ImageOps

from tests import images


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((4000, 3000), (256, 192)),
        ((3000, 4000), (192, 256)),
        ((1234, 567), (256, 118)),
        ((256, 256), (256, 256)),
    ],
)
def test_jpeg_fits_the_box_keeping_the_aspect_ratio(size, expected):
    thumbnail = make_thumbnail(images.jpeg(*size))
    assert (thumbnail.width, thumbnail.height) == expected
    assert (
        thumbnail.format == "JPEG" and thumbnail.content_type == "image/jpeg" and thumbnail.extension == "jpg"
    )
    decoded = decode(thumbnail.data)
    assert decoded.format == "JPEG" and decoded.size == expected
    assert abs(decoded.width / decoded.height - size[0] / size[1]) * decoded.height <= 1
    assert (thumbnail.source.width, thumbnail.source.height) == size
    assert thumbnail.source.format == "JPEG"


def test_small_images_are_never_upscaled():
    thumbnail = make_thumbnail(images.jpeg(120, 80))
    assert (thumbnail.width, thumbnail.height) == (120, 80)


def test_configurable_box():
    thumbnail = make_thumbnail(images.jpeg(4000, 3000), max_width=320, max_height=200)
    assert (thumbnail.width, thumbnail.height) == (267, 200)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_comes_out_upright(orientation):
    # Stored 400x200 with the red half on top; what is "up" after orientation depends on the tag.
    thumbnail = make_thumbnail(images.two_colour_jpeg(400, 200, orientation), 256, 256)
    upright = decode(images.two_colour_jpeg(400, 200, orientation))

    expected = ImageOps.exif_transpose(upright)
    assert (thumbnail.source.width, thumbnail.source.height) == expected.size
    assert thumbnail.source.orientation == orientation
    result = decode(thumbnail.data).convert("RGB")
    assert result.width / result.height == pytest.approx(expected.width / expected.height, abs=0.02)
    # Compare where the red is: sample the centre of each quarter of both images.
    for fx, fy in ((0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)):
        got = result.getpixel((int(result.width * fx), int(result.height * fy)))
        want = expected.getpixel((int(expected.width * fx), int(expected.height * fy)))
        assert (got[0] > 128) == (want[0] > 128), (orientation, fx, fy, got, want)


def test_png_with_alpha_stays_transparent_png():
    thumbnail = make_thumbnail(images.png_with_alpha(1000, 500))
    assert (
        thumbnail.format == "PNG" and thumbnail.content_type == "image/png" and thumbnail.extension == "png"
    )
    result = decode(thumbnail.data)
    assert result.mode == "RGBA" and result.size == (256, 128)
    assert result.getpixel((200, 64))[3] == 0  # right half transparent
    assert result.getpixel((50, 64))[3] == 255  # left half opaque


def test_palette_png_with_transparency_keeps_it():
    image = Image.new("P", (300, 300), 0)
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    image.paste(1, (150, 0, 300, 300))
    thumbnail = make_thumbnail(images.encode(image, "PNG", transparency=1))
    result = decode(thumbnail.data)
    assert thumbnail.format == "PNG"
    assert result.getpixel((10, 10))[3] == 255 and result.getpixel((250, 10))[3] == 0


def test_opaque_webp_becomes_jpeg_and_webp_with_alpha_png():
    opaque = make_thumbnail(images.webp(800, 600))
    assert (
        opaque.source.format == "WEBP"
        and opaque.format == "JPEG"
        and (opaque.width, opaque.height) == (256, 192)
    )
    transparent = make_thumbnail(images.webp(800, 600, alpha=True))
    assert transparent.format == "PNG" and decode(transparent.data).getpixel((5, 5))[3] == 0


def test_animated_gif_uses_the_first_frame():
    thumbnail = make_thumbnail(images.animated_gif(300, 200))
    assert thumbnail.source.format == "GIF" and thumbnail.source.frames == 2
    red, _green, blue = decode(thumbnail.data).convert("RGB").getpixel((100, 60))
    assert red > 200 and blue < 50


def test_cmyk_jpeg_becomes_rgb():
    thumbnail = make_thumbnail(images.encode(images.photo(600, 400).convert("CMYK"), "JPEG"))
    assert decode(thumbnail.data).mode == "RGB" and thumbnail.width == 256


def test_sixteen_bit_greyscale_is_scaled_not_clipped():
    image = Image.linear_gradient("L").resize((512, 512)).point(lambda value: value * 256).convert("I;16")
    thumbnail = make_thumbnail(images.encode(image, "PNG"))
    result = decode(thumbnail.data).convert("L")
    low, high = result.getextrema()
    assert low < 30 and high > 220, "a 16-bit gradient must stay a gradient"


def test_progressive_jpeg():
    thumbnail = make_thumbnail(images.jpeg(2000, 1500, progressive=True))
    assert (thumbnail.width, thumbnail.height) == (256, 192)


BAD_INPUTS = {
    "zero bytes": (b"", ErrorCode.EMPTY_OBJECT),
    "text": (images.TEXT, ErrorCode.NOT_AN_IMAGE),
    "binary": (images.BINARY, ErrorCode.NOT_AN_IMAGE),
    "svg": (images.SVG, ErrorCode.UNSUPPORTED_FORMAT),
    "pdf": (images.PDF, ErrorCode.UNSUPPORTED_FORMAT),
    "ico": (images.encode(images.photo(32, 32), "ICO"), ErrorCode.UNSUPPORTED_FORMAT),
    "psd-like": (b"8BPS" + bytes(100), ErrorCode.UNSUPPORTED_FORMAT),
    "eps": (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", ErrorCode.UNSUPPORTED_FORMAT),
    "xcf": (b"gimp xcf v011\x00" + bytes(64), ErrorCode.UNSUPPORTED_FORMAT),
    "jpeg xl": (b"\xff\x0a" + bytes(64), ErrorCode.UNSUPPORTED_FORMAT),
    "truncated jpeg": (images.jpeg(800, 600)[:600], ErrorCode.CORRUPT_IMAGE),
    "jpeg cut in the header": (images.jpeg(800, 600)[:40], ErrorCode.CORRUPT_IMAGE),
    "truncated png": (images.png_with_alpha(400, 300)[:300], ErrorCode.CORRUPT_IMAGE),
    "png bomb 30000x30000": (images.png_claiming(30000, 30000), ErrorCode.IMAGE_TOO_LARGE),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_rejected_with_its_error_code(name):
    data, code = BAD_INPUTS[name]
    with pytest.raises(ImageRejectedError) as rejected:
        make_thumbnail(data)
    assert rejected.value.code == code, rejected.value.message
    assert rejected.value.message


def test_pixel_limit_is_configurable_and_checked_before_decoding():
    with pytest.raises(ImageRejectedError) as rejected:
        make_thumbnail(images.jpeg(2000, 1000), max_pixels=1_000_000)
    assert rejected.value.code == ErrorCode.IMAGE_TOO_LARGE
    assert "2000x1000" in rejected.value.message
    assert make_thumbnail(images.jpeg(2000, 1000), max_pixels=2_000_000).width == 256


def test_bomb_is_rejected_quickly_from_its_header():
    bomb = images.png_claiming(30000, 30000)
    assert len(bomb) < 10_000
    with pytest.raises(ImageRejectedError):
        make_thumbnail(bomb)


@pytest.mark.parametrize(("make", "source_format"), [(images.heic, "HEIF"), (images.avif, "AVIF")])
def test_phone_formats_heic_and_avif(make, source_format):
    thumbnail = make_thumbnail(make(800, 600))
    assert thumbnail.source.format == source_format
    assert (thumbnail.width, thumbnail.height) == (256, 192)
    assert decode(thumbnail.data).format == "JPEG"


def test_greyscale_stays_greyscale_jpeg():
    thumbnail = make_thumbnail(images.encode(images.photo(600, 400, mode="L"), "JPEG"))
    assert thumbnail.format == "JPEG" and decode(thumbnail.data).mode == "L"


def test_animated_webp_uses_the_first_frame():
    frames = [Image.new("RGB", (300, 200), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    data = images.encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    thumbnail = make_thumbnail(data)
    assert thumbnail.source.frames == 2
    red, _green, blue = decode(thumbnail.data).convert("RGB").getpixel((100, 60))
    assert red > 200 and blue < 50


def test_camera_mpo_is_processed_as_jpeg():
    frames = [images.photo(800, 600), images.photo(800, 600)]
    data = images.encode(frames[0], "MPO", save_all=True, append_images=frames[1:])
    thumbnail = make_thumbnail(data)
    assert thumbnail.source.format == "JPEG" and (thumbnail.width, thumbnail.height) == (256, 192)


def test_tiff_and_bmp():
    for image_format in ("TIFF", "BMP"):
        thumbnail = make_thumbnail(images.encode(images.photo(640, 480), image_format))
        assert thumbnail.source.format == image_format and (thumbnail.width, thumbnail.height) == (256, 192)


def test_fit_within():
    assert fit_within(1000, 10, 256, 256) == (256, 3)
    assert fit_within(1, 5000, 256, 256) == (1, 256)


def test_wide_modes_get_a_smaller_pixel_limit_so_they_fit_the_functions_memory():
    sixteen_bit = images.encode(Image.new("I;16", (100, 100)), "PNG")
    make_thumbnail(sixteen_bit, max_pixels=20_000)
    with pytest.raises(ImageRejectedError) as rejected:
        make_thumbnail(sixteen_bit, max_pixels=19_999)
    assert (
        rejected.value.code == ErrorCode.IMAGE_TOO_LARGE and "9,999 pixels for I;16" in rejected.value.message
    )


@pytest.mark.parametrize("brand", [b"heic", b"mif1", b"avif"])
def test_a_truncated_heic_or_avif_is_corrupt_but_a_video_is_not_an_image(brand):
    header = b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00" + brand + b"mif1"
    with pytest.raises(ImageRejectedError) as rejected:
        make_thumbnail(header + bytes(40))
    assert rejected.value.code == ErrorCode.CORRUPT_IMAGE
    with pytest.raises(ImageRejectedError) as video:
        make_thumbnail(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(40))
    assert video.value.code == ErrorCode.NOT_AN_IMAGE
