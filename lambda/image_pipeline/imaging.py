"""Thumbnails: bytes in, thumbnail bytes and facts out. No I/O, no AWS.

Speed comes from never decoding more pixels than the thumbnail needs: a JPEG is decoded at the
smallest DCT scale that is still at least as large as the target (``Image.draft``), and the EXIF
orientation is applied after reducing, not before (transposing first would decode the full image).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

# Registering the plugins we read and write up front keeps Pillow from importing all of them on
# the first image it does not recognise from its preinit set (WebP, TIFF).
from PIL import (
    BmpImagePlugin,  # noqa: F401
    GifImagePlugin,  # noqa: F401
    Image,
    JpegImagePlugin,  # noqa: F401
    PngImagePlugin,  # noqa: F401
    TiffImagePlugin,  # noqa: F401
    WebPImagePlugin,  # noqa: F401
)

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


class ImageDecodeError(Exception):
    """The bytes are not an image Pillow can read."""


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


def _to_output_mode(image: Image.Image, keep_alpha: bool) -> Image.Image:
    if image.mode.startswith("I") or image.mode == "F":
        # 16/32-bit greyscale: scale to 8 bits instead of clipping everything above 255 to white.
        high = image.getextrema()[1] or 1
        image = image.point(lambda value: value * (255 / high)).convert("L")
    if keep_alpha:
        return image if image.mode in ("RGBA", "LA") else image.convert("RGBA")
    return image if image.mode in ("RGB", "L") else image.convert("RGB")


def make_thumbnail(data: bytes, max_width: int = 256, max_height: int = 256) -> Thumbnail:
    """A thumbnail that fits max_width x max_height, upright, as JPEG (opaque) or PNG (with alpha)."""
    try:
        image = Image.open(io.BytesIO(data))
        orientation = int(image.getexif().get(EXIF_ORIENTATION_TAG, 1) or 1)
        if orientation not in range(1, 9):
            orientation = 1
        frames = getattr(image, "n_frames", 1)
        stored_width, stored_height = image.size
        swaps = orientation in _SWAPS_AXES
        source = SourceFacts(
            format=image.format or "UNKNOWN",
            width=stored_height if swaps else stored_width,
            height=stored_width if swaps else stored_height,
            orientation=orientation,
            frames=frames,
        )
        # The box in the stored (not yet upright) orientation.
        box_width, box_height = (max_height, max_width) if swaps else (max_width, max_height)
        target = fit_within(stored_width, stored_height, box_width, box_height)
        if image.format == "JPEG":
            # Decode at the smallest DCT scale that still covers the target size.
            image.draft(None, target)
        keep_alpha = has_transparency(image)
        if image.mode == "P" or image.mode == "CMYK":
            image = image.convert("RGBA" if keep_alpha else "RGB")
        image = _to_output_mode(image, keep_alpha)
        if image.size != target:
            image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
        if orientation in _UPRIGHT_TRANSPOSE:
            image = image.transpose(_UPRIGHT_TRANSPOSE[orientation])
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ImageDecodeError(str(error)) from error

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
