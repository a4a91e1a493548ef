"""Renditions: bytes in, encoded renditions and facts about the source out. No I/O, no AWS.

One decode serves every rendition. A JPEG is decoded at the smallest DCT scale that still covers
the largest rendition (``Image.draft``); the decoded pixels are reduced once to that rendition's
size, converted to 8-bit sRGB (through the embedded ICC profile, on the reduced pixels, where it
is cheap) and turned upright (EXIF orientation, after reducing: transposing first would decode
the full image). Each smaller rendition is then resized from the one before it, largest first,
and the watermark goes on a copy, so it never leaks into a rendition derived later.

Safety comes from deciding before decoding: only the supported formats' parsers ever see the
bytes, and the pixel count is checked from the header, so a few-KB "decompression bomb" is
rejected without allocating its pixels. Only the decoder's own calls on the input (open, EXIF,
draft, load) turn an exception into CORRUPT_IMAGE; a failure of our own code propagates, so the
pipeline records it as retryable instead of blaming the upload.

Outputs carry no metadata: no EXIF, XMP, GPS, comment or ICC profile. They are sRGB, which is
what browsers assume for an untagged image.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import pillow_heif

# Registering the plugins we read and write up front keeps Pillow from importing all of them on
# the first image it does not recognise from its preinit set (WebP, TIFF).
from PIL import (
    AvifImagePlugin,  # noqa: F401
    BmpImagePlugin,  # noqa: F401
    ExifTags,
    GifImagePlugin,  # noqa: F401
    Image,
    ImageChops,
    ImageCms,
    ImageDraw,
    ImageFont,
    JpegImagePlugin,  # noqa: F401
    MpoImagePlugin,  # noqa: F401
    PngImagePlugin,  # noqa: F401
    TiffImagePlugin,  # noqa: F401
    UnidentifiedImageError,
    WebPImagePlugin,  # noqa: F401
)

from image_pipeline.errors import ErrorCode, ImageRejectedError
from image_pipeline.renditions import RenditionSpec

pillow_heif.register_heif_opener()  # HEIC/HEIF, as phones take them


def _require_codecs() -> None:
    """Fail the cold start, not every upload, when the package lacks a codec: a decoder that is
    not there would otherwise look like a corrupt file, and CORRUPT_IMAGE is never retried."""
    from PIL import features

    missing = [name for name in ("jpg", "zlib", "libtiff") if not features.check_codec(name)]
    missing += [
        name for name in ("webp", "avif", "littlecms2", "freetype2") if not features.check_module(name)
    ]
    if missing:
        raise ImportError(f"Pillow in this package lacks {', '.join(missing)}: rebuild it (make build)")


_require_codecs()
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
# Decoders that turn the image upright themselves while loading (verified with Pillow 13.0 and
# pillow-heif 1.8, and tested per format): Pillow's TIFF plugin transposes in load() and already
# reports the upright size from the header; pillow-heif applies the orientation and rewrites the
# EXIF tag to 1, keeping the original in info["original_orientation"]. Transposing again would
# turn them twice. JPEG, MPO, PNG, WebP and AVIF (whose irot/imir Pillow reports as an EXIF
# orientation without applying it) are ours to turn.
_DECODER_ORIENTS = {"TIFF", "HEIF"}
# Only the JPEG decoder can decode at a reduced scale. (pillow-heif's draft() would swap in the
# file's embedded thumbnail, which need not show the same picture as the image: not used.)
_DRAFTABLE = {"JPEG", "MPO"}
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
# ISO media brands of HEIC/HEIF and AVIF files (bytes 8-12, after "ftyp").
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
# Decoding these modes needs 2 (16-bit) or 4 (32-bit, float) times the memory of 8-bit pixels and
# more again to scale them: they get a proportionally smaller pixel limit, so that an image the
# pipeline accepts fits the function's memory.
_WIDE_MODE_COST = {"I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2, "I": 4, "F": 4}
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

# Resampling: Lanczos, whose support grows with the factor, so nothing aliases. reducing_gap=2
# first box-reduces by an integer factor (Image.reduce) where at least 2x is left for Lanczos
# (4x and more: the thumbnail): ~2.5x faster there, and > 45 dB PSNR against a plain Lanczos.
# Bicubic would save ~15 % of a 12 MP photo's time in the near (< 2x) steps, but leaves twice
# the moire on fine textures in the web rendition (measured with one-pixel stripes).
_RESAMPLE = Image.Resampling.LANCZOS
_REDUCING_GAP = 2.0

_OUTPUT_TYPES = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "AVIF": ("image/avif", "avif"),
}
# Encoder settings, measured on a 1600x1200 photo-like image, one core of the 2-core dev machine:
# - JPEG: optimize=True (Huffman tables fitted to the image) costs ~1 ms at 1024 px and saves
#   2-30 %; 4:2:0 chroma is the standard for photos. Progressive costs 2.5x more again for ~4 %.
# - WebP: method 2 takes ~80 ms against ~175 ms for the default method 4, for ~4 % more bytes at
#   the same PSNR; method 0 is ~50 ms but ~15 % bigger.
# - AVIF: speed 8 is ~3x faster than Pillow's default 6 for <1 % more bytes (9-10: ~20 % more).
# - PNG: zlib level 3 is ~2.5x faster than the default 6 for ~4 % more bytes.
_SAVE_OPTIONS: dict[str, Callable[[int], dict[str, object]]] = {
    "JPEG": lambda quality: {"quality": quality, "optimize": True, "subsampling": "4:2:0"},
    "PNG": lambda _quality: {"compress_level": 3},
    "WEBP": lambda quality: {"quality": quality, "method": 2},
    "AVIF": lambda quality: {"quality": quality, "speed": 8},
}
_FORMAT_OF_SPEC = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF"}

# Colour: every rendition is sRGB. Perceptual intent (Pillow's default; for matrix/TRC profiles
# such as Display P3 and Adobe RGB lcms treats it as relative colorimetric).
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_INTENT = ImageCms.Intent.PERCEPTUAL
_TRANSFORM_CACHE_SIZE = 16  # distinct embedded profiles kept per warm environment

# Watermark: text rows tiled across the whole rendition at an angle, so any crop keeps some.
_FONT_PATH = Path(__file__).resolve().parent / "fonts" / "DejaVuSans-Bold.ttf"
WATERMARK_ANGLE = 30.0  # degrees, rising to the right
_WATERMARK_TEXT_HEIGHT = 0.05  # font size as a share of the rendition's shorter side
_WATERMARK_FILL = (255, 255, 255, 115)  # light, ~45 % opaque: shows on dark photos
_WATERMARK_OUTLINE = (0, 0, 0, 90)  # dark outline, ~35 % opaque: shows on light photos
_WATERMARK_LOGO_OPACITY = 0.4
_WATERMARK_LOGO_HEIGHT = 1.6  # logo height in text line heights


@dataclass(frozen=True)
class CameraFacts:
    """What the source's EXIF says about how it was taken; None where it says nothing usable."""

    captured_at: str | None = None  # DateTimeOriginal, ISO 8601, with OffsetTimeOriginal when present
    camera_make: str | None = None
    camera_model: str | None = None
    lens_model: str | None = None
    focal_length: float | None = None  # mm
    f_number: float | None = None
    exposure_time: str | None = None  # as photographers write it: '1/250', '2'
    iso: int | None = None
    color_profile: str | None = None  # the embedded ICC profile's description
    latitude: float | None = None  # decimal degrees, S/W negative; only used if the caller opts in
    longitude: float | None = None


@dataclass(frozen=True)
class SourceFacts:
    format: str  # Pillow's name: JPEG, PNG, WEBP, GIF, ...
    width: int  # upright, after EXIF orientation
    height: int
    orientation: int  # the source's EXIF orientation, 1-8
    frames: int
    camera: CameraFacts = field(default_factory=CameraFacts)


@dataclass(frozen=True)
class Rendition:
    name: str
    data: bytes
    width: int
    height: int
    format: str  # JPEG, PNG, WEBP or AVIF
    content_type: str
    extension: str


@dataclass(frozen=True)
class RenderedImage:
    source: SourceFacts
    renditions: tuple[Rendition, ...]  # in declaration order


@dataclass(frozen=True)
class Watermark:
    text: str
    logo_png: bytes | None = None  # a PNG (with alpha) tiled with the text, or instead of it

    def __post_init__(self) -> None:
        if not self.text.strip() and not self.logo_png:
            raise ValueError("a watermark needs a text or a logo")


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
    is_heif_or_avif = data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS  # (not an MP4 video)
    if is_webp or is_heif_or_avif or data.startswith(_SUPPORTED_SIGNATURES):
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
    cost = _WIDE_MODE_COST.get(image.mode, 1)
    if width * height * cost > max_pixels:
        raise ImageRejectedError(
            ErrorCode.IMAGE_TOO_LARGE,
            f"{width}x{height} pixels is over the limit of {max_pixels // cost:,} pixels "
            f"for {image.mode} images",
        )
    if width < 1 or height < 1:
        raise ImageRejectedError(ErrorCode.CORRUPT_IMAGE, f"the image claims a size of {width}x{height}")
    return image


@contextmanager
def _decoding() -> Iterator[None]:
    """Wrap the decoder's own calls on the input: whatever they raise is the input's fault."""
    try:
        yield
    except (MemoryError, ImageRejectedError):
        raise
    except Exception as error:  # a decoder choking on hostile bytes, whatever it raises
        raise ImageRejectedError(ErrorCode.CORRUPT_IMAGE, f"the image cannot be decoded: {error}") from error


def make_renditions(
    data: bytes,
    specs: Sequence[RenditionSpec],
    watermark: Watermark | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> RenderedImage:
    """Every declared rendition of one upload, from one decode, in declaration order.

    Raises ImageRejectedError (with an ErrorCode) for input that can never become a rendition;
    ValueError for a request that cannot be served (no spec, an unknown format, a watermarked
    spec without a watermark); anything else is a failure on our side.
    """
    specs = tuple(specs)
    _check_request(specs, watermark)
    source, base, sizes = _decode(data, specs, max_pixels)

    rendered: dict[str, Rendition] = {}
    # Largest first: each rendition is resized from the (unwatermarked) one before it.
    for spec in sorted(specs, key=lambda spec: sizes[spec.name][0] * sizes[spec.name][1], reverse=True):
        if base.size != sizes[spec.name]:
            base = _resize(base, sizes[spec.name])
        output = _apply_watermark(base, watermark) if watermark and spec.watermark else base
        rendered[spec.name] = _encode_rendition(spec, output)
    return RenderedImage(source=source, renditions=tuple(rendered[spec.name] for spec in specs))


def make_thumbnail(
    data: bytes, max_width: int = 256, max_height: int = 256, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Thumbnail:
    """A thumbnail that fits max_width x max_height, upright, as JPEG (opaque) or PNG (with alpha).

    Raises ImageRejectedError (with an ErrorCode) for input that can never become a thumbnail.
    """
    spec = RenditionSpec("thumbnail", max_width, max_height, "auto", JPEG_QUALITY)
    rendered = make_renditions(data, (spec,), max_pixels=max_pixels)
    rendition = rendered.renditions[0]
    return Thumbnail(
        data=rendition.data,
        width=rendition.width,
        height=rendition.height,
        format=rendition.format,
        content_type=rendition.content_type,
        extension=rendition.extension,
        source=rendered.source,
    )


def encode_image(image: Image.Image, image_format: str, quality: int) -> bytes:
    """Encode with the settings every rendition uses (JPEG, PNG, WEBP, AVIF), and no metadata."""
    if image.info:  # savers copy an ICC profile, comment or EXIF from info: outputs carry none
        image = image.copy()
        image.info = {}
    output = io.BytesIO()
    image.save(output, format=image_format, **_SAVE_OPTIONS[image_format](quality))
    return output.getvalue()


def _check_request(specs: tuple[RenditionSpec, ...], watermark: Watermark | None) -> None:
    if not specs:
        raise ValueError("no rendition requested")
    for spec in specs:
        if spec.format != "auto" and spec.format not in _FORMAT_OF_SPEC:
            raise ValueError(f"rendition {spec.name!r}: unknown format {spec.format!r}")
        if spec.watermark and watermark is None:
            # Fail closed: a proof must never go out without its watermark.
            raise ValueError(f"rendition {spec.name!r} is watermarked, but no watermark was given")


def _decode(
    data: bytes, specs: tuple[RenditionSpec, ...], max_pixels: int
) -> tuple[SourceFacts, Image.Image, dict[str, tuple[int, int]]]:
    """Facts, the largest rendition's pixels (upright, 8-bit sRGB) and every rendition's size.

    The decoded image lives only in this function, so its memory is freed when it returns.
    """
    image = open_image(data, max_pixels)
    source_format = "JPEG" if image.format == "MPO" else str(image.format)
    with _decoding():
        exif = image.getexif()  # (a PNG's EXIF may follow its pixels: this decodes them)
        if image.format == "HEIF":
            orientation = image.info.get("original_orientation") or 1
        else:
            orientation = exif.get(EXIF_ORIENTATION_TAG, 1)
        frames = getattr(image, "n_frames", 1)
    orientation = orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1
    exif_ifd, gps_ifd = _exif_ifd(exif, ExifTags.IFD.Exif), _exif_ifd(exif, ExifTags.IFD.GPSInfo)

    ours_to_turn = image.format not in _DECODER_ORIENTS
    swaps = ours_to_turn and orientation in _SWAPS_AXES
    # (TIFF and HEIF report their upright size already.)
    width, height = (image.height, image.width) if swaps else image.size
    sizes = {spec.name: fit_within(width, height, spec.width, spec.height) for spec in specs}
    largest = max(sizes.values(), key=lambda size: size[0] * size[1])
    stored_target = (largest[1], largest[0]) if swaps else largest

    with _decoding():
        if image.format in _DRAFTABLE:
            # Decode at the smallest DCT scale that still covers the largest rendition.
            image.draft(None, stored_target)
        image.load()

    icc = image.info.get("icc_profile") or None
    base = _to_working_mode(image)
    colour = _colour_transform(icc, base.mode) if icc else None
    if base.size != stored_target:
        base = _resize(base, stored_target)
    if colour is not None:
        base = colour.apply(base)
    elif base.mode in ("CMYK", "LAB"):
        base = _to_rgb_without_profile(base)
    base = _drop_opaque_alpha(base)
    if ours_to_turn and orientation in _UPRIGHT_TRANSPOSE:
        base = base.transpose(_UPRIGHT_TRANSPOSE[orientation])
    base.info = {}  # nothing of the source's metadata goes further (renditions copy info)

    source = SourceFacts(
        format=source_format,
        width=width,
        height=height,
        orientation=orientation,
        frames=frames,
        camera=_camera_facts(exif, exif_ifd, gps_ifd, colour.description if colour else None),
    )
    return source, base, sizes


# --- pixels ----------------------------------------------------------------------------------


def _to_working_mode(image: Image.Image) -> Image.Image:
    """8-bit L, LA, RGB or RGBA (CMYK and LAB kept for the colour step, which converts them)."""
    mode = image.mode
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK", "LAB"):
        if "transparency" in image.info and mode in ("L", "RGB"):
            return image.convert({"L": "LA", "RGB": "RGBA"}[mode])  # a colour key (PNG tRNS)
        return image
    if mode == "1":
        return image.convert("LA" if has_transparency(image) else "L")
    if mode in ("P", "PA"):
        return image.convert("RGBA" if has_transparency(image) else "RGB")
    if mode in ("La", "RGBa", "RGBX", "YCbCr", "HSV"):
        return image.convert({"La": "LA", "RGBa": "RGBA"}.get(mode, "RGB"))
    if mode.startswith("I;16") or mode in ("I", "F"):
        return _scale_to_8_bits(image)
    raise ImageRejectedError(ErrorCode.UNSUPPORTED_FORMAT, f"images in {mode} mode are not supported")


def _scale_to_8_bits(image: Image.Image) -> Image.Image:
    """16/32-bit integer or float greyscale to L, scaled, where a plain convert clips at 255.

    White is the top of the bit depth the values use: 16-bit photos span 0-65535, but 10, 12
    and 14-bit sensor data is stored in 16 bits too (a 12-bit TIFF would otherwise come out
    16 times too dark). Floats in 0-1 are normalised; any other range is stretched.
    """
    if image.mode == "F":
        low, high = image.getextrema()
        if low >= 0 and high <= 1:
            return _linear_to_l(image, 255.0, 0.0)
    else:
        image = image if image.mode == "I" else image.convert("I")
        low, high = image.getextrema()
        if low >= 0 and high <= 65535:
            return image.point(_lut_to_8_bits(_bit_depth(high)), "L")
    if low >= 0 and high <= 65535:
        return _linear_to_l(image, 255 / (2 ** _bit_depth(high) - 1), 0.0)
    scale = 255 / (high - low) if high > low else 0.0
    return _linear_to_l(image, scale, -low * scale)


def _bit_depth(high: float) -> int:
    return next(bits for bits in (8, 10, 12, 14, 16) if high < 2**bits)


@lru_cache(maxsize=5)
def _lut_to_8_bits(bits: int) -> list[int]:
    top = 2**bits - 1
    return [min(255, round(value * 255 / top)) for value in range(65536)]


def _linear_to_l(image: Image.Image, scale: float, offset: float) -> Image.Image:
    floating = image if image.mode == "F" else image.convert("F")
    # (+0.5: converting F to L truncates)
    return floating.point(lambda value: value * scale + offset + 0.5).convert("L")


def _resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    return image.resize(size, _RESAMPLE, reducing_gap=_REDUCING_GAP)


def _drop_opaque_alpha(image: Image.Image) -> Image.Image:
    """An alpha channel that is opaque everywhere is no transparency (auto picks JPEG for it)."""
    if image.mode in ("RGBA", "LA") and image.getchannel("A").getextrema()[0] == 255:
        return image.convert(image.mode[:-1])
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """Composite on white, for formats without alpha."""
    mode = image.mode[:-1]
    background = Image.new(mode, image.size, 255 if mode == "L" else (255, 255, 255))
    background.paste(image.convert(mode), mask=image.getchannel("A"))
    return background


def _encode_rendition(spec: RenditionSpec, image: Image.Image) -> Rendition:
    alpha = image.mode in ("RGBA", "LA")
    image_format = _FORMAT_OF_SPEC.get(spec.format) or ("PNG" if alpha else "JPEG")  # auto
    if image_format == "JPEG" and alpha:
        image = _flatten(image)
    elif image_format in ("WEBP", "AVIF") and image.mode in ("L", "LA"):
        image = image.convert("RGBA" if alpha else "RGB")  # (AVIF: monochrome is poorly supported)
    content_type, extension = _OUTPUT_TYPES[image_format]
    return Rendition(
        name=spec.name,
        data=encode_image(image, image_format, spec.quality),
        width=image.width,
        height=image.height,
        format=image_format,
        content_type=content_type,
        extension=extension,
    )


# --- colour ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ColourTransform:
    """Built once per embedded profile (and mode) and kept while the environment is warm."""

    transform: ImageCms.ImageCmsTransform | None  # None: the profile is sRGB already
    input_mode: str
    description: str | None

    def apply(self, image: Image.Image) -> Image.Image:
        if self.transform is None:
            return image
        if self.input_mode == "L":  # grey: through RGB (lcms needs it) and back to one channel
            alpha = image.getchannel("A") if image.mode == "LA" else None
            grey = self.transform.apply(image.convert("L")).convert("L")
            if alpha is not None:
                grey.putalpha(alpha)
            return grey
        return self.transform.apply(image.convert(self.input_mode))


_transforms: OrderedDict[tuple[bytes, str], _ColourTransform | None] = OrderedDict()


def _colour_transform(icc: bytes, mode: str) -> _ColourTransform | None:
    """The transform from the embedded profile to sRGB for this working mode, or None.

    A profile that lcms cannot parse, or whose colour space does not match the pixels, is
    ignored (the pixels are taken as sRGB), as browsers do: it must not fail the upload.
    """
    input_mode = {"RGB": "RGB", "RGBA": "RGBA", "CMYK": "CMYK", "L": "L", "LA": "L"}.get(mode)
    if input_mode is None:
        return None
    key = (hashlib.sha256(icc).digest(), input_mode)
    if key in _transforms:
        _transforms.move_to_end(key)
        return _transforms[key]
    colour = _build_colour_transform(icc, input_mode)
    _transforms[key] = colour
    while len(_transforms) > _TRANSFORM_CACHE_SIZE:
        _transforms.popitem(last=False)
    return colour


def _build_colour_transform(icc: bytes, input_mode: str) -> _ColourTransform | None:
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        output_mode = {"L": "RGB", "CMYK": "RGB"}.get(input_mode, input_mode)
        transform = ImageCms.buildTransform(profile, _SRGB, input_mode, output_mode, _INTENT)
        description = _text(ImageCms.getProfileDescription(profile))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):  # lcms rejecting the profile
        return None
    if input_mode in ("RGB", "RGBA") and _is_identity(transform, input_mode):
        transform = None
    return _ColourTransform(transform, input_mode, description)


def _is_identity(transform: ImageCms.ImageCmsTransform, mode: str) -> bool:
    """True for an sRGB profile (as most cameras embed): the transform would change nothing."""
    levels = (0, 18, 50, 100, 128, 180, 230, 255)
    colours = [(r, g, b) for r in levels for g in levels for b in levels]
    probe = Image.new("RGB", (len(colours), 1))
    probe.putdata(colours)
    if mode == "RGBA":
        probe = probe.convert("RGBA")
    difference = ImageChops.difference(transform.apply(probe), probe)
    return max(high for _low, high in difference.getextrema()) <= 1


def _to_rgb_without_profile(image: Image.Image) -> Image.Image:
    if image.mode == "LAB":  # CIELab TIFF: Pillow has no plain conversion
        lab = ImageCms.buildTransform(ImageCms.createProfile("LAB"), _SRGB, "LAB", "RGB", _INTENT)
        return lab.apply(image)
    return image.convert("RGB")  # CMYK without a profile: Pillow's naive conversion


# --- watermark -------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def watermark_font(size: int) -> ImageFont.FreeTypeFont:
    """DejaVu Sans Bold, shipped in the package (no system fonts on Lambda), per pixel size."""
    return ImageFont.truetype(str(_FONT_PATH), size)


def _apply_watermark(image: Image.Image, watermark: Watermark) -> Image.Image:
    """A copy of image with the watermark tiled over all of it, in rows at WATERMARK_ANGLE.

    One mark (logo and text, outlined) is drawn and rotated once per size, then composited
    along a rotated lattice, alternate rows offset by half a step (a brick pattern), so every
    part of the image, and so every crop of it, carries some of it.
    """
    width, height = image.size
    mark, step, row_pitch = _watermark_mark(min(width, height), watermark.text.strip(), watermark.logo_png)
    angle = math.radians(WATERMARK_ANGLE)
    along = (math.cos(angle), -math.sin(angle))  # rising to the right (y points down)
    across = (math.sin(angle), math.cos(angle))
    reach = math.hypot(width, height) / 2 + max(mark.size)
    rows, steps = math.ceil(reach / row_pitch), math.ceil(reach / step) + 1
    marked = image.copy()
    colour = mark if marked.mode == "RGBA" else mark.convert(marked.mode)
    alpha = mark.getchannel("A")
    for row in range(-rows, rows + 1):
        shift = (row % 2) / 2
        for index in range(-steps, steps + 1):
            offset = (index + shift) * step
            x = width / 2 + offset * along[0] + row * row_pitch * across[0] - mark.width / 2
            y = height / 2 + offset * along[1] + row * row_pitch * across[1] - mark.height / 2
            _composite(marked, colour, alpha, round(x), round(y))
    return marked


def _composite(image: Image.Image, mark: Image.Image, alpha: Image.Image, x: int, y: int) -> None:
    """Put mark over image at (x, y), in place; the part outside the image is cut off."""
    left, top = max(0, x), max(0, y)
    right, bottom = min(image.width, x + mark.width), min(image.height, y + mark.height)
    if left >= right or top >= bottom:
        return
    if image.mode == "RGBA":  # "over" with both alphas (paste would not add them up)
        image.alpha_composite(mark, (left, top), (left - x, top - y, right - x, bottom - y))
    else:  # an opaque image: paste through the mark's alpha is "over"
        box = (left - x, top - y, right - x, bottom - y)
        image.paste(mark.crop(box), (left, top), alpha.crop(box))


@lru_cache(maxsize=16)
def _watermark_mark(short_side: int, text: str, logo_png: bytes | None) -> tuple[Image.Image, float, float]:
    """The rotated mark for images whose shorter side is short_side, its step along a row and
    the distance between rows. Cached: photos from one camera share their rendition sizes."""
    font_size = max(8, round(short_side * _WATERMARK_TEXT_HEIGHT))
    font = watermark_font(font_size)
    outline = max(1, round(font_size / 14))
    left, top, right, bottom = font.getbbox(text, stroke_width=outline) if text else (0, 0, 0, 0)
    line_height = max(bottom - top, font_size)
    logo = _watermark_logo(logo_png, round(line_height * _WATERMARK_LOGO_HEIGHT)) if logo_png else None
    logo_width = logo.width + (font_size // 2 if text else 0) if logo else 0
    mark_height = max(line_height, logo.height if logo else 0)
    mark = Image.new("RGBA", (logo_width + right - left, mark_height))
    if logo:
        mark.alpha_composite(logo, (0, (mark_height - logo.height) // 2))
    if text:
        ImageDraw.Draw(mark).text(
            (logo_width - left, (mark_height - line_height) // 2 - top),
            text,
            font=font,
            fill=_WATERMARK_FILL,
            stroke_width=outline,
            stroke_fill=_WATERMARK_OUTLINE,
        )
    rotated = mark.rotate(WATERMARK_ANGLE, Image.Resampling.BICUBIC, expand=True)
    return rotated, mark.width + font_size * 2, mark_height * 3.2


@lru_cache(maxsize=4)
def _watermark_logo(logo_png: bytes, height: int) -> Image.Image:
    logo = Image.open(io.BytesIO(logo_png), formats=("PNG",)).convert("RGBA")
    width = max(1, round(logo.width * height / logo.height))
    logo = logo.resize((width, max(1, height)), Image.Resampling.LANCZOS)
    logo.putalpha(logo.getchannel("A").point(lambda value: value * _WATERMARK_LOGO_OPACITY))
    return logo


# --- camera facts ----------------------------------------------------------------------------

_DATE_TIME = re.compile(r"^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"^[+-]\d{2}:\d{2}$")


def _exif_ifd(exif: Image.Exif, ifd: ExifTags.IFD) -> dict[int, object]:
    """A sub-IFD of the EXIF (camera settings, GPS); empty when absent or unreadable.

    Camera facts are optional: a damaged sub-IFD in an image that decodes costs the facts only.
    """
    try:
        return dict(exif.get_ifd(ifd))
    except MemoryError:
        raise
    except Exception:  # the EXIF parser choking on hostile bytes, whatever it raises
        return {}


def _camera_facts(
    exif: Image.Exif, exif_ifd: dict[int, object], gps: dict[int, object], profile: str | None
) -> CameraFacts:
    return CameraFacts(
        captured_at=_captured_at(exif_ifd.get(ExifTags.Base.DateTimeOriginal), exif_ifd.get(0x9011)),
        camera_make=_text(exif.get(ExifTags.Base.Make)),
        camera_model=_text(exif.get(ExifTags.Base.Model)),
        lens_model=_text(exif_ifd.get(ExifTags.Base.LensModel)),
        focal_length=_positive(exif_ifd.get(ExifTags.Base.FocalLength)),
        f_number=_positive(exif_ifd.get(ExifTags.Base.FNumber)),
        exposure_time=_exposure_time(exif_ifd.get(ExifTags.Base.ExposureTime)),
        iso=_iso(exif_ifd.get(ExifTags.Base.ISOSpeedRatings)),
        color_profile=profile,
        latitude=_coordinate(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), 90),
        longitude=_coordinate(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), 180),
    )


# A camera's make, model or lens, a profile's name: short in any real file. A hostile one can
# carry hundreds of KB, which would not fit a row (400 KB) or a workflow's state (256 KB).
MAX_FACT_CHARACTERS = 256


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", " ").strip()[:MAX_FACT_CHARACTERS].strip()
    return value or None


def _number(value: object) -> float | None:
    if isinstance(value, tuple):  # (ISOSpeedRatings may list several)
        value = value[0] if value else None
    try:
        number = float(value)  # type: ignore[arg-type]  # int, float or IFDRational
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def _positive(value: object) -> float | None:
    number = _number(value)
    return round(number, 2) if number is not None and number > 0 else None


def _captured_at(value: object, offset: object) -> str | None:
    match = _DATE_TIME.match(_text(value) or "")
    if not match:
        return None
    try:
        moment = datetime(*(int(part) for part in match.groups()))
    except ValueError:  # 0000:00:00 00:00:00 and other impossible dates
        return None
    offset_text = _text(offset)
    suffix = offset_text if offset_text and _OFFSET.match(offset_text) else ""
    return moment.isoformat() + suffix


def _exposure_time(value: object) -> str | None:
    seconds = _number(value)
    if seconds is None or seconds <= 0:
        return None
    if seconds < 1:
        denominator = 1 / seconds
        if abs(denominator - round(denominator)) <= 0.02 * denominator:
            return f"1/{round(denominator)}"
        return f"{seconds:.2g}"
    return f"{round(seconds, 1):g}"


def _iso(value: object) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number > 0 else None


def _coordinate(value: object, reference: object, limit: float) -> float | None:
    if not isinstance(value, tuple) or len(value) != 3:
        return None
    parts = [_number(part) for part in value]
    if any(part is None or part < 0 for part in parts):
        return None
    degrees, minutes, seconds = parts  # type: ignore[misc]
    coordinate = degrees + minutes / 60 + seconds / 3600
    if coordinate > limit:
        return None
    sign = -1 if (_text(reference) or "").upper() in ("S", "W") else 1
    return round(sign * coordinate, 7)
