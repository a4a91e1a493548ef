"""Test images made on the fly with Pillow: photo-like content, EXIF, alpha, animation."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

EXIF_ORIENTATION_TAG = 0x0112


def photo(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A smooth gradient with a few shapes: compresses like a photo, not like a flat colour."""
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge(
        "RGB", (gradient, gradient.transpose(Image.Transpose.ROTATE_90).resize((width, height)), gradient)
    )
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 4, height // 4, width // 2, height // 2), fill=(220, 40, 40))
    return image.convert(mode) if mode != "RGB" else image


def encode(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def jpeg(width: int, height: int, orientation: int | None = None, quality: int = 90, **options) -> bytes:
    image = photo(width, height)
    if orientation is not None:
        exif = Image.Exif()
        exif[EXIF_ORIENTATION_TAG] = orientation
        options["exif"] = exif.tobytes()
    return encode(image, "JPEG", quality=quality, **options)


def two_colour_jpeg(width: int, height: int, orientation: int) -> bytes:
    """Stored top half red, bottom half blue, with the given EXIF orientation."""
    image = Image.new("RGB", (width, height), (0, 0, 255))
    ImageDraw.Draw(image).rectangle((0, 0, width, height // 2 - 1), fill=(255, 0, 0))
    exif = Image.Exif()
    exif[EXIF_ORIENTATION_TAG] = orientation
    return encode(image, "JPEG", quality=95, exif=exif.tobytes())


def png_with_alpha(width: int, height: int) -> bytes:
    """Opaque photo on the left half, fully transparent right half."""
    image = photo(width, height).convert("RGBA")
    ImageDraw.Draw(image).rectangle((width // 2, 0, width, height), fill=(0, 0, 0, 0))
    return encode(image, "PNG")


def webp(width: int, height: int, alpha: bool = False) -> bytes:
    image = photo(width, height).convert("RGBA") if alpha else photo(width, height)
    if alpha:
        ImageDraw.Draw(image).rectangle((0, 0, width // 3, height), fill=(0, 0, 0, 0))
    return encode(image, "WEBP", quality=80)


def animated_gif(width: int, height: int) -> bytes:
    """Two frames: red first, then blue."""
    frames = [Image.new("RGB", (width, height), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def png_claiming(width: int, height: int) -> bytes:
    """A few-KB PNG whose header claims width x height: a decompression bomb if anyone decodes it."""
    import struct
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(kind + payload))
        return struct.pack(">I", len(payload)) + kind + payload + checksum

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pixels = zlib.compress(b"\x00" * (width + 1) * 8, 9)  # only the first rows; the rest is a promise
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def heic(width: int, height: int) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return encode(photo(width, height), "HEIF", quality=80)


def avif(width: int, height: int) -> bytes:
    return encode(photo(width, height), "AVIF", quality=70)


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>\n'
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TEXT = b"holiday notes: remember the sunscreen\n" * 20
BINARY = bytes(range(256)) * 16
