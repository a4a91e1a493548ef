"""Thumbnails: bytes in, thumbnail bytes and facts out. No I/O, no AWS.

Speed comes from never decoding more pixels than the thumbnail needs: a JPEG is decoded at the
smallest DCT scale that is still at least as large as the target (``Image.draft``), and the EXIF
orientation is applied after reducing, not before (transposing first would decode the full image).

Safety comes from deciding before decoding: only the supported formats' parsers ever see the
bytes, and the pixel count is checked from the header, so a few-KB "decompression bomb" is
rejected without allocating its pixels.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pillow_heif

# Registering the plugins we read and write up front keeps Pillow from importing all of them on
# the first image it does not recognise from its preinit set (WebP, TIFF).
from PIL import (
    AvifImagePlugin,  # noqa: F401
    BmpImagePlugin,  # noqa: F401
    GifImagePlugin,  # noqa: F401
    Image,
    JpegImagePlugin,  # noqa: F401
    MpoImagePlugin,  # noqa: F401
    PngImagePlugin,  # noqa: F401
    TiffImagePlugin,  # noqa: F401
    UnidentifiedImageError,
    WebPImagePlugin,  # noqa: F401
)

from image_pipeline.errors import ErrorCode, ImageRejectedError

pillow_heif.register_heif_opener()  # HEIC/HEIF, as phones take them
# The pixel limit is ours (open_image checks it from the header, with a clear message).
Image.MAX_IMAGE_PIXELS = None

# Pillow format names whose parsers may see uploads. (The JPEG parser also opens MPO, the
# multi-picture JPEG some cameras write.)
SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP", "AVIF", "HEIF")
DEFAULT_MAX_PIXELS = 150_000_000
JPEG_QUALITY = 85
EXIF_ORIENTATION_TAG = 0x0112
# EXIF orientation -> the transpose that makes the image upright.
_UPRIGHT_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_AXES = {5, 6, 7, 8}
# Leading bytes of supported formats: such a file that does not parse is corrupt, not "not an image".
_SUPPORTED_SIGNATURES = (
    b"\xff\xd8\xff",  # JPEG
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"II*\x00",  # TIFF, little-endian
    b"MM\x00*",  # TIFF, big-endian
    b"BM",
)
# Leading bytes of formats people upload that we deliberately do not process.
_UNSUPPORTED_SIGNATURES = {
    b"%PDF-": "PDF",
    b"8BPS": "Photoshop (PSD)",
    b"%!PS": "PostScript/EPS",
    b"\xc5\xd0\xd3\xc6": "EPS",
    b"\x00\x00\x01\x00": "ICO",
    b"gimp xcf": "GIMP XCF",
    b"\xff\x0a": "JPEG XL",
    b"\x00\x00\x00\x0cJXL ": "JPEG XL",
}


@dataclass(frozen=True)
class SourceFacts:
    format: str  # Pillow's name: JPEG, PNG, WEBP, GIF, ...
    width: int  # upright, after EXIF orientation
    height: int
    orientation: int
    frames: int


@dataclass(frozen=True)
class Thumbnail:
    data: bytes
    width: int
    height: int
    format: str  # JPEG or PNG
    content_type: str
    extension: str
    source: SourceFacts


def has_transparency(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        return True
    return "transparency" in image.info


def fit_within(width: int, height: int, max_width: int, max_height: int) -> tuple[int, int]:
    """The largest size with the same aspect ratio inside the box; never larger than the original."""
    scale = min(max_width / width, max_height / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def describe_unknown(data: bytes) -> ImageRejectedError:
    """Why bytes that no supported parser accepts are rejected."""
    for signature, name in _UNSUPPORTED_SIGNATURES.items():
        if data.startswith(signature):
            return ImageRejectedError(ErrorCode.UNSUPPORTED_FORMAT, f"{name} files are not supported")
    head = data[:2048].lower()
    if b"<svg" in head:
        return ImageRejectedError(ErrorCode.UNSUPPORTED_FORMAT, "SVG files are not supported")
    is_webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if is_webp or data.startswith(_SUPPORTED_SIGNATURES):
        return ImageRejectedError(ErrorCode.CORRUPT_IMAGE, "the image is truncated or corrupt")
    return ImageRejectedError(ErrorCode.NOT_AN_IMAGE, "the file is not an image")


def open_image(data: bytes, max_pixels: int) -> Image.Image:
    """Parse the header only; reject what we will not decode."""
    if not data:
        raise ImageRejectedError(ErrorCode.EMPTY_OBJECT, "the file is empty")
    try:
        image = Image.open(io.BytesIO(data), formats=SUPPORTED_FORMATS)
    except UnidentifiedImageError as error:
        raise describe_unknown(data) from error
    except MemoryError:
        raise
    except Exception as error:  # a parser choking on hostile bytes, whatever it raises
        raise ImageRejectedError(ErrorCode.CORRUPT_IMAGE, f"the image header is corrupt: {error}") from error
    width, height = image.size
    if width * height > max_pixels:
        raise ImageRejectedError(
            ErrorCode.IMAGE_TOO_LARGE, f"{width}x{height} pixels is over the limit of {max_pixels:,} pixels"
        )
    if width < 1 or height < 1:
        raise ImageRejectedError(ErrorCode.CORRUPT_IMAGE, f"the image claims a size of {width}x{height}")
    return image


def _to_output_mode(image: Image.Image, keep_alpha: bool) -> Image.Image:
    if image.mode.startswith("I") or image.mode == "F":
        # 16/32-bit greyscale: scale to 8 bits instead of clipping everything above 255 to white.
        high = image.getextrema()[1] or 1
        image = image.point(lambda value: value * (255 / high)).convert("L")
    if keep_alpha:
        return image if image.mode in ("RGBA", "LA") else image.convert("RGBA")
    return image if image.mode in ("RGB", "L") else image.convert("RGB")


def make_thumbnail(
    data: bytes, max_width: int = 256, max_height: int = 256, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Thumbnail:
    """A thumbnail that fits max_width x max_height, upright, as JPEG (opaque) or PNG (with alpha).

    Raises ImageRejectedError (with an ErrorCode) for input that can never become a thumbnail.
    """
    image = open_image(data, max_pixels)
    try:
        # (For PNG this decodes the pixels: its EXIF chunk may follow the image data.)
        orientation = int(image.getexif().get(EXIF_ORIENTATION_TAG, 1) or 1)
    except MemoryError:
        raise
    except Exception as error:
        raise ImageRejectedError(ErrorCode.CORRUPT_IMAGE, f"the image cannot be decoded: {error}") from error
    if orientation not in range(1, 9):
        orientation = 1
    stored_width, stored_height = image.size
    swaps = orientation in _SWAPS_AXES
    source = SourceFacts(
        format="JPEG" if image.format == "MPO" else str(image.format),
        width=stored_height if swaps else stored_width,
        height=stored_width if swaps else stored_height,
        orientation=orientation,
        frames=getattr(image, "n_frames", 1),
    )
    # The box in the stored (not yet upright) orientation.
    box_width, box_height = (max_height, max_width) if swaps else (max_width, max_height)
    target = fit_within(stored_width, stored_height, box_width, box_height)
    try:
        if image.format in ("JPEG", "MPO"):
            # Decode at the smallest DCT scale that still covers the target size.
            image.draft(None, target)
        image.load()
        keep_alpha = has_transparency(image)
        if image.mode in ("P", "CMYK", "YCbCr"):
            image = image.convert("RGBA" if keep_alpha else "RGB")
        image = _to_output_mode(image, keep_alpha)
        if image.size != target:
            image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
        if orientation in _UPRIGHT_TRANSPOSE:
            image = image.transpose(_UPRIGHT_TRANSPOSE[orientation])
    except MemoryError:
        raise
    except Exception as error:  # a decoder choking on hostile bytes, whatever it raises
        raise ImageRejectedError(ErrorCode.CORRUPT_IMAGE, f"the image cannot be decoded: {error}") from error

    output = io.BytesIO()
    if keep_alpha:
        image.save(output, format="PNG")
        output_format, content_type, extension = "PNG", "image/png", "png"
    else:
        image.save(output, format="JPEG", quality=JPEG_QUALITY)
        output_format, content_type, extension = "JPEG", "image/jpeg", "jpg"
    return Thumbnail(
        data=output.getvalue(),
        width=image.width,
        height=image.height,
        format=output_format,
        content_type=content_type,
        extension=extension,
        source=source,
    )
