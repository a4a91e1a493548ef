"""Test images made on the fly with Pillow: photo-like content, EXIF, alpha, animation."""

from __future__ import annotations

import io
import struct

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


# --- added for the rendition engine's tests ----------------------------------------------------

# Quadrant colours of an upright scene: what is "up" and "left" survives any transpose.
SCENE_COLOURS = {"top-left": (230, 30, 30), "top-right": (30, 200, 30), "bottom-left": (30, 30, 230)}
SCENE_OTHER = (240, 240, 40)  # bottom-right
# EXIF orientation -> the transpose that turns the stored pixels upright, and its inverse.
UPRIGHT_TRANSPOSE = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_INVERSE = {
    Image.Transpose.ROTATE_270: Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_90: Image.Transpose.ROTATE_270,
}


def scene(width: int, height: int) -> Image.Image:
    """Upright: red top-left, green top-right, blue bottom-left, yellow bottom-right quadrant."""
    image = Image.new("RGB", (width, height), SCENE_OTHER)
    draw = ImageDraw.Draw(image)
    half_x, half_y = width // 2, height // 2
    draw.rectangle((0, 0, half_x - 1, half_y - 1), fill=SCENE_COLOURS["top-left"])
    draw.rectangle((half_x, 0, width, half_y - 1), fill=SCENE_COLOURS["top-right"])
    draw.rectangle((0, half_y, half_x - 1, height), fill=SCENE_COLOURS["bottom-left"])
    return image


def stored_for(upright: Image.Image, orientation: int) -> Image.Image:
    """The pixels a camera stores so that `orientation` turns them into `upright`."""
    transpose = UPRIGHT_TRANSPOSE[orientation]
    return upright if transpose is None else upright.transpose(_INVERSE.get(transpose, transpose))


def exif_with(orientation: int | None = None, **ifd0: object) -> Image.Exif:
    exif = Image.Exif()
    if orientation is not None:
        exif[EXIF_ORIENTATION_TAG] = orientation
    for tag, value in ifd0.items():
        exif[int(tag)] = value
    return exif


def oriented(image_format: str, orientation: int, width: int = 96, height: int = 64) -> bytes:
    """The upright scene stored for `orientation`, in `image_format`, with the EXIF tag."""
    stored = stored_for(scene(width, height), orientation)
    options: dict[str, object] = {"exif": exif_with(orientation).tobytes()}
    if image_format in ("JPEG", "WEBP", "AVIF", "HEIF"):
        options["quality"] = 95
    if image_format == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    return encode(stored, image_format, **options)


def gradient(mode: str, width: int = 96, height: int = 64) -> Image.Image:
    """A left-to-right gradient from black to the top of `mode`'s range, in exactly that mode."""
    grey = Image.linear_gradient("L").rotate(90).resize((width, height))  # 0 left, 255 right
    if mode in ("I", "I;16", "I;16L", "I;16B"):
        wide = grey.convert("I").point(lambda value: value * 257)  # 0..65535
        if mode == "I":
            return wide
        if mode == "I;16B":
            return Image.frombytes("I;16B", grey.size, wide.convert("I;16").tobytes("raw", "I;16B"))
        return wide.convert(mode)
    if mode == "F":
        return grey.convert("F").point(lambda value: value / 255)  # 0..1
    if mode == "1":
        return grey.convert("1")  # dithered
    if mode in ("P", "PA"):
        image = Image.merge("RGB", (grey, grey, grey)).convert("P", palette=Image.Palette.ADAPTIVE)
    else:
        image = Image.merge("RGB", (grey, grey, grey)).convert(mode.replace("A", "") or "RGB")
    if mode in ("LA", "PA", "RGBA"):  # opaque but for a transparent top-left corner
        alpha = Image.new("L", grey.size, 255)
        ImageDraw.Draw(alpha).rectangle((0, 0, width // 8, height // 8), fill=0)
        image = image.convert(mode)
        image.putalpha(alpha)
    return image


def logo_png(size: int = 64) -> bytes:
    """A round orange logo on a transparent background."""
    image = Image.new("RGBA", (size, size))
    ImageDraw.Draw(image).ellipse((2, 2, size - 3, size - 3), fill=(250, 120, 0, 255), outline=(0, 0, 0, 255))
    return encode(image, "PNG")


# ICC profiles made here (v2 matrix/TRC and LUT profiles, public-domain-simple): Pillow's ImageCms
# can only create sRGB, LAB and XYZ profiles, and a tiny builder needs no third-party file.
_D50 = (0.9642, 1.0, 0.8249)
_D65 = (0.3127, 0.3290)
_BRADFORD = ((0.8951, 0.2664, -0.1614), (-0.7502, 1.7135, 0.0367), (0.0389, -0.0685, 1.0296))
DISPLAY_P3_PRIMARIES = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
ADOBE_RGB_PRIMARIES = ((0.640, 0.330), (0.210, 0.710), (0.150, 0.060))
# sRGB (D65) -> XYZ adapted to D50, and back: for building the CMYK profile's table.
_SRGB_TO_XYZ_D50 = (
    (0.4360747, 0.3850649, 0.1430804),
    (0.2225045, 0.7168786, 0.0606169),
    (0.0139322, 0.0971045, 0.7141733),
)


def _matrix_product(a, b):
    return tuple(tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)) for i in range(3))


def _matrix_vector(a, v):
    return tuple(sum(a[i][k] * v[k] for k in range(3)) for i in range(3))


def _matrix_inverse(m):
    (a, b, c), (d, e, f), (g, h, i) = m
    det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    return (
        ((e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det),
        ((f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det),
        ((d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det),
    )


def _xyz_of(xy):
    return (xy[0] / xy[1], 1.0, (1 - xy[0] - xy[1]) / xy[1])


def rgb_to_xyz_d50(primaries, white=_D65):
    """An RGB space's primaries as XYZ columns, Bradford-adapted to D50 (as ICC stores them)."""
    columns = [_xyz_of(primary) for primary in primaries]
    matrix = tuple(tuple(columns[j][i] for j in range(3)) for i in range(3))
    scale = _matrix_vector(_matrix_inverse(matrix), _xyz_of(white))
    matrix = tuple(tuple(matrix[i][j] * scale[j] for j in range(3)) for i in range(3))
    source, target = _matrix_vector(_BRADFORD, _xyz_of(white)), _matrix_vector(_BRADFORD, _D50)
    diagonal = tuple(tuple(target[i] / source[i] if i == j else 0.0 for j in range(3)) for i in range(3))
    adapt = _matrix_product(_matrix_inverse(_BRADFORD), _matrix_product(diagonal, _BRADFORD))
    return _matrix_product(adapt, matrix)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz_tag(xyz) -> bytes:
    return b"XYZ " + bytes(4) + b"".join(_s15(value) for value in xyz)


def _desc_tag(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\0"
    return b"desc" + bytes(4) + struct.pack(">I", len(ascii_text)) + ascii_text + bytes(8 + 3 + 67)


def _text_tag(text: str) -> bytes:
    return b"text" + bytes(4) + text.encode("ascii") + b"\0"


def _gamma_tag(gamma: float) -> bytes:
    return b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256)) + bytes(2)


def _srgb_curve_tag() -> bytes:
    """parametricCurveType 3, the sRGB curve (Display P3 uses it too)."""
    parameters = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)
    return b"para" + bytes(4) + struct.pack(">HH", 3, 0) + b"".join(_s15(value) for value in parameters)


def _icc(device_class: bytes, colour_space: bytes, pcs: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    tags = [(signature, data + bytes(-len(data) % 4)) for signature, data in tags]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        table += struct.pack(">4sII", signature, offset + len(body), len(data))
        body += data
    header = struct.pack(
        ">I4sI4s4s4s6H4s4sI4s4sQI",
        offset + len(body),
        bytes(4),
        0x02100000,  # version 2.1
        device_class,
        colour_space,
        pcs,
        *(2026, 1, 1, 0, 0, 0),
        b"acsp",
        bytes(4),
        0,
        bytes(4),
        bytes(4),
        0,
        0,  # perceptual
    )
    header += b"".join(_s15(value) for value in _D50)
    header += bytes(128 - len(header))
    return header + struct.pack(">I", len(tags)) + table + body


def rgb_icc_profile(description: str, primaries, curve: str | float) -> bytes:
    """A v2 matrix/TRC RGB profile: `curve` is "srgb" or a gamma."""
    matrix = rgb_to_xyz_d50(primaries)
    trc = _srgb_curve_tag() if curve == "srgb" else _gamma_tag(float(curve))
    columns = [_xyz_tag([matrix[i][j] for i in range(3)]) for j in range(3)]
    return _icc(
        b"mntr",
        b"RGB ",
        b"XYZ ",
        [
            (b"desc", _desc_tag(description)),
            (b"cprt", _text_tag("No copyright, use freely")),
            (b"wtpt", _xyz_tag(_D50)),
            (b"rXYZ", columns[0]),
            (b"gXYZ", columns[1]),
            (b"bXYZ", columns[2]),
            (b"rTRC", trc),
            (b"gTRC", trc),
            (b"bTRC", trc),
        ],
    )


def display_p3_profile() -> bytes:
    return rgb_icc_profile("Display P3", DISPLAY_P3_PRIMARIES, "srgb")


def adobe_rgb_profile() -> bytes:
    """Adobe RGB (1998)'s primaries, white and 563/256 gamma, under that customary name."""
    return rgb_icc_profile("Adobe RGB (1998)", ADOBE_RGB_PRIMARIES, 563 / 256)


def gray_icc_profile(gamma: float = 1.8) -> bytes:
    return _icc(
        b"mntr",
        b"GRAY",
        b"XYZ ",
        [
            (b"desc", _desc_tag(f"Gray Gamma {gamma:g}")),
            (b"cprt", _text_tag("No copyright, use freely")),
            (b"wtpt", _xyz_tag(_D50)),
            (b"kTRC", _gamma_tag(gamma)),
        ],
    )


def cmyk_icc_profile(dot_gain: float = 1.6, grid: int = 7) -> bytes:
    """A CMYK printer profile (A2B0 LUT to Lab) for an ink model with dot gain: mid-tones print
    darker than Pillow's plain CMYK conversion assumes, so the two conversions differ visibly."""

    def to_lab(c: float, m: float, y: float, k: float) -> tuple[float, float, float]:
        def ink(value: float) -> float:
            return 1 - (1 - value) ** dot_gain

        rgb = [(1 - ink(value)) * (1 - ink(k)) for value in (c, m, y)]
        linear = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in rgb]
        xyz = _matrix_vector(_SRGB_TO_XYZ_D50, linear)
        ratios = [value / white for value, white in zip(xyz, _D50, strict=True)]
        f = [t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116 for t in ratios]
        return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])

    steps = [index / (grid - 1) for index in range(grid)]
    table = b""
    for c in steps:
        for m in steps:
            for y in steps:
                for k in steps:
                    lightness, a, b = to_lab(c, m, y, k)
                    table += struct.pack(
                        ">3H",
                        min(0xFF00, max(0, round(lightness * 0xFF00 / 100))),
                        min(0xFFFF, max(0, round((a + 128) * 256))),
                        min(0xFFFF, max(0, round((b + 128) * 256))),
                    )
    identity = b"".join(_s15(1.0 if i == j else 0.0) for i in range(3) for j in range(3))
    lut = (
        b"mft2"
        + bytes(4)
        + struct.pack(">BBBB", 4, 3, grid, 0)
        + identity
        + struct.pack(">HH", 2, 2)
        + struct.pack(">2H", 0, 0xFFFF) * 4
        + table
        + struct.pack(">2H", 0, 0xFFFF) * 3
    )
    return _icc(
        b"prtr",
        b"CMYK",
        b"Lab ",
        [
            (b"desc", _desc_tag("Dot gain CMYK")),
            (b"cprt", _text_tag("No copyright, use freely")),
            (b"wtpt", _xyz_tag(_D50)),
            (b"A2B0", lut),
        ],
    )


def camera_exif(location: bool = False) -> bytes:
    """The EXIF a camera writes: make, model, lens, time (with offset), exposure; and a GPS
    position when asked."""
    from PIL import ExifTags, TiffImagePlugin

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.Model] = "Canon EOS R5"
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = "2026:05:01 14:03:22"
    details[ExifTags.Base.OffsetTimeOriginal] = "+02:00"
    details[ExifTags.Base.LensModel] = "RF24-70mm F2.8 L IS USM"
    details[ExifTags.Base.FocalLength] = TiffImagePlugin.IFDRational(35, 1)
    details[ExifTags.Base.FNumber] = TiffImagePlugin.IFDRational(28, 10)
    details[ExifTags.Base.ExposureTime] = TiffImagePlugin.IFDRational(1, 250)
    details[ExifTags.Base.ISOSpeedRatings] = 400
    if location:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (52.0, 31.0, 12.0)
        gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "E", (13.0, 24.0, 36.0)
    return exif.tobytes()


def camera_jpeg(width: int, height: int, location: bool = False) -> bytes:
    return encode(photo(width, height), "JPEG", quality=90, exif=camera_exif(location))
