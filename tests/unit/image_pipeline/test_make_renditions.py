"""The rendition engine with real Pillow: sizes, formats, one decode, modes, metadata, errors."""

from __future__ import annotations

import io
import math
import struct

import pytest
from image_pipeline import imaging
from image_pipeline.errors import ErrorCode, ImageRejectedError
from image_pipeline.imaging import RenderedImage, Watermark, make_renditions
from image_pipeline.renditions import DEFAULT_RENDITIONS, RenditionSpec, parse_renditions
from PIL import ExifTags, Image, ImageChops, ImageStat, JpegImagePlugin

from tests import images

DEFAULTS = parse_renditions(DEFAULT_RENDITIONS)
WATERMARK = Watermark("© Test")


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def by_name(rendered: RenderedImage) -> dict[str, imaging.Rendition]:
    return {rendition.name: rendition for rendition in rendered.renditions}


def spec(name: str, box: tuple[int, int], image_format: str = "auto", quality: int = 85) -> RenditionSpec:
    return RenditionSpec(name, box[0], box[1], image_format, quality)


# --- sizes -----------------------------------------------------------------------------------


def test_default_renditions_of_a_photo():
    rendered = make_renditions(images.jpeg(2400, 1800), DEFAULTS, WATERMARK)
    assert [r.name for r in rendered.renditions] == ["thumbnail", "web", "proof"]  # declaration order
    got = {r.name: (r.width, r.height, r.format, r.content_type, r.extension) for r in rendered.renditions}
    assert got == {
        "thumbnail": (256, 192, "JPEG", "image/jpeg", "jpg"),
        "web": (1600, 1200, "WEBP", "image/webp", "webp"),
        "proof": (1024, 768, "JPEG", "image/jpeg", "jpg"),
    }
    for rendition in rendered.renditions:
        decoded = decode(rendition.data)
        assert decoded.format == rendition.format and decoded.size == (rendition.width, rendition.height)
    assert rendered.source == imaging.SourceFacts("JPEG", 2400, 1800, 1, 1, imaging.CameraFacts())


@pytest.mark.parametrize(
    ("size", "box"),
    [
        ((4000, 3000), (256, 256)),
        ((3000, 4000), (300, 200)),
        ((1234, 567), (500, 500)),
        ((10, 3000), (64, 64)),
    ],
)
def test_every_output_fits_its_box_keeping_the_aspect_ratio(size, box):
    rendered = make_renditions(
        images.jpeg(*size), [spec("thumbnail", box), spec("half", (box[0] // 2, box[1]))]
    )
    for rendition, (box_width, box_height) in zip(
        rendered.renditions, [box, (box[0] // 2, box[1])], strict=True
    ):
        assert rendition.width <= box_width and rendition.height <= box_height
        assert rendition.width == box_width or rendition.height == box_height  # as large as fits
        assert abs(rendition.width / rendition.height - size[0] / size[1]) * rendition.height <= 1


def test_never_upscales():
    rendered = make_renditions(images.jpeg(300, 200), DEFAULTS, WATERMARK)
    sizes = {r.name: (r.width, r.height) for r in rendered.renditions}
    assert sizes == {"thumbnail": (256, 171), "web": (300, 200), "proof": (300, 200)}


def test_one_decode_at_the_dct_scale_of_the_largest_rendition_then_each_from_the_previous(monkeypatch):
    # Stored 4000x3000, orientation 6 (portrait): the largest box (1600) holds 1200x1600 upright,
    # which is 1600x1200 as stored: the JPEG decodes at 1/2 (2000x1500), never at full size.
    data = images.jpeg(4000, 3000, orientation=6)
    drafts, loads, resizes = [], [], []
    original_draft, original_load = JpegImagePlugin.JpegImageFile.draft, JpegImagePlugin.JpegImageFile.load
    original_resize = imaging._resize

    def draft(self, mode, size):
        drafts.append(size)
        return original_draft(self, mode, size)

    def load(self):
        loads.append(self.size)
        return original_load(self)

    def resize(image, size):
        resizes.append((image.size, size))
        return original_resize(image, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", draft)
    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", load)
    monkeypatch.setattr(imaging, "_resize", resize)
    rendered = make_renditions(data, DEFAULTS, WATERMARK)

    assert drafts == [(1600, 1200)]
    assert set(loads) == {(2000, 1500)}  # (load() is called again by later steps: a no-op)
    # Largest first (stored orientation until it is turned), each from the one before.
    assert resizes == [((2000, 1500), (1600, 1200)), ((1200, 1600), (768, 1024)), ((768, 1024), (192, 256))]
    assert (rendered.source.width, rendered.source.height, rendered.source.orientation) == (3000, 4000, 6)


def test_make_thumbnail_is_the_engine_with_one_auto_spec():
    data = images.jpeg(800, 600)
    thumbnail = imaging.make_thumbnail(data, 320, 200)
    rendition = make_renditions(data, [RenditionSpec("thumbnail", 320, 200, "auto", 85)]).renditions[0]
    assert thumbnail.data == rendition.data and (thumbnail.width, thumbnail.height) == (267, 200)


# --- formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image_format", "content_type", "extension"),
    [
        ("jpeg", "image/jpeg", "jpg"),
        ("png", "image/png", "png"),
        ("webp", "image/webp", "webp"),
        ("avif", "image/avif", "avif"),
    ],
)
def test_declared_formats(image_format, content_type, extension):
    rendition = make_renditions(
        images.jpeg(640, 480), [spec("thumbnail", (200, 200), image_format, 70)]
    ).renditions[0]
    assert (rendition.content_type, rendition.extension) == (content_type, extension)
    decoded = decode(rendition.data)
    assert decoded.format == rendition.format == image_format.upper()
    assert decoded.size == (200, 150) and decoded.mode == "RGB"


def test_auto_is_png_for_transparency_and_jpeg_when_the_alpha_is_opaque():
    transparent = make_renditions(images.png_with_alpha(400, 200), [spec("thumbnail", (100, 100))])
    assert transparent.renditions[0].format == "PNG" and decode(transparent.renditions[0].data).mode == "RGBA"
    opaque_rgba = images.encode(images.photo(400, 200).convert("RGBA"), "PNG")
    assert make_renditions(opaque_rgba, [spec("thumbnail", (100, 100))]).renditions[0].format == "JPEG"


@pytest.mark.parametrize("image_format", ["png", "webp", "avif"])
def test_alpha_is_kept_where_the_format_has_it(image_format):
    rendition = make_renditions(
        images.png_with_alpha(400, 200), [spec("thumbnail", (200, 200), image_format, 90)]
    )
    decoded = decode(rendition.renditions[0].data).convert("RGBA")
    assert decoded.getpixel((150, 50))[3] == 0 and decoded.getpixel((30, 50))[3] == 255


def test_alpha_into_jpeg_is_composited_on_white():
    rendition = make_renditions(images.png_with_alpha(400, 200), [spec("thumbnail", (200, 200), "jpeg", 90)])
    decoded = decode(rendition.renditions[0].data)
    assert decoded.mode == "RGB" and min(decoded.getpixel((160, 60))) >= 250


def test_quality_comes_from_the_spec():
    data = images.jpeg(800, 600)
    low, high = make_renditions(
        data, [spec("thumbnail", (400, 400), "webp", 20), spec("b", (400, 400), "webp", 95)]
    ).renditions
    assert len(low.data) < len(high.data)


# --- modes -----------------------------------------------------------------------------------

# What each format can store, as Pillow decodes it (mode written -> mode decoded).
STORABLE = {
    "TIFF": ["1", "L", "LA", "P", "PA", "RGB", "RGBA", "CMYK", "YCbCr", "I", "I;16", "I;16B", "F"],
    "PNG": ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"],
    "JPEG": ["L", "RGB", "CMYK"],
    "WEBP": ["RGB", "RGBA"],
    "GIF": ["P"],
    "BMP": ["1", "L", "P", "RGB"],
    "AVIF": ["L", "RGB", "RGBA"],
    "HEIF": ["L", "RGB", "RGBA", "I;16"],
}
CASES = [(image_format, mode) for image_format, modes in STORABLE.items() for mode in modes]


@pytest.mark.parametrize(("image_format", "mode"), CASES, ids=[f"{f}-{m}" for f, m in CASES])
def test_every_mode_gives_sensible_renditions(image_format, mode):
    source = images.gradient(mode)
    options = {"quality": 95} if image_format in ("JPEG", "WEBP", "AVIF", "HEIF") else {}
    if image_format == "HEIF":
        images.heic(8, 8)  # registers the plugin
    data = images.encode(source, image_format, **options)
    assert decode(data).mode == {"I;16L": "I;16"}.get(mode, mode)  # the case is what it claims

    rendered = make_renditions(data, [spec("thumbnail", (48, 48), "png"), spec("small", (24, 24), "jpeg")])
    assert rendered.source.width == 96 and rendered.source.height == 64
    for rendition in rendered.renditions:
        decoded = decode(rendition.data)
        grey = decoded.convert("L")
        left = ImageStat.Stat(grey.crop((0, grey.height // 2, grey.width // 4, grey.height))).mean[0]
        right = ImageStat.Stat(grey.crop((grey.width * 3 // 4, 0, grey.width, grey.height))).mean[0]
        # Still a gradient from dark to light: not clipped to white, not crushed to black.
        assert left < 70 and right > 185, (rendition.name, left, right)


def test_big_endian_sixteen_bit_tiff_is_not_rejected():
    data = images.encode(images.gradient("I;16B", 400, 200), "TIFF")
    assert decode(data).mode == "I;16B"
    rendition = make_renditions(data, [spec("thumbnail", (100, 100))]).renditions[0]
    low, high = decode(rendition.data).convert("L").getextrema()
    assert low < 10 and high > 245


@pytest.mark.parametrize(
    ("top", "mode"),
    [(4095, "I;16"), (1023, "I;16B"), (65535, "I;16"), (255, "I;16")],
)
def test_sixteen_bit_containers_are_scaled_by_the_depth_they_use(top, mode):
    # 10 and 12-bit sensor data is stored in 16 bits: white is the top of its own depth.
    ramp = images.gradient("I").point(lambda value: value * top / 65535)
    data = images.encode(ramp.convert("I;16").convert(mode) if mode != "I;16B" else _big_endian(ramp), "TIFF")
    rendition = make_renditions(data, [spec("thumbnail", (96, 96), "png")]).renditions[0]
    low, high = decode(rendition.data).convert("L").getextrema()
    assert low < 10 and high > 245


def _big_endian(image: Image.Image) -> Image.Image:
    return Image.frombytes("I;16B", image.size, image.convert("I;16").tobytes("raw", "I;16B"))


@pytest.mark.parametrize(("low", "high"), [(0.0, 1.0), (0.0, 255.0), (-3.5, 1000.25)])
def test_float_images_are_scaled_from_their_range(low, high):
    ramp = images.gradient("F").point(lambda value: low + value * (high - low))
    rendition = make_renditions(images.encode(ramp, "TIFF"), [spec("thumbnail", (96, 96), "png")]).renditions[
        0
    ]
    darkest, brightest = decode(rendition.data).convert("L").getextrema()
    assert darkest < 10 and brightest > 200


def test_lab_tiff_is_converted_to_rgb():
    lab = Image.merge(
        "LAB", (images.gradient("L"), Image.new("L", (96, 64), 128), Image.new("L", (96, 64), 128))
    )
    rendition = make_renditions(images.encode(lab, "TIFF"), [spec("thumbnail", (96, 96), "png")]).renditions[
        0
    ]
    decoded = decode(rendition.data).convert("RGB")
    assert decoded.getpixel((2, 30))[0] < 30 and decoded.getpixel((93, 30))[0] > 230


# --- metadata --------------------------------------------------------------------------------


def _source_with_metadata() -> bytes:
    exif = images.exif_with(orientation=1, **{str(int(ExifTags.Base.Make)): "Canon"})
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2024:05:17 14:03:27"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)})
    return images.encode(
        images.photo(800, 600),
        "JPEG",
        exif=exif.tobytes(),
        icc_profile=images.display_p3_profile(),
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>',
        comment=b"shot by someone",
    )


def _jpeg_markers(data: bytes) -> list[int]:
    markers, position = [], 2
    while position < len(data):
        marker = data[position + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        position += 2 + length
    return markers


def _png_chunks(data: bytes) -> list[bytes]:
    chunks, position = [], 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        chunks.append(data[position + 4 : position + 8])
        position += 12 + length
    return chunks


def _webp_chunks(data: bytes) -> list[bytes]:
    chunks, position = [], 12
    while position < len(data):
        kind, length = (
            data[position : position + 4],
            struct.unpack("<I", data[position + 4 : position + 8])[0],
        )
        chunks.append(kind)
        position += 8 + length + (length & 1)
    return chunks


def test_no_metadata_in_any_output():
    data = _source_with_metadata()
    source = decode(data)
    assert {"exif", "icc_profile", "xmp", "comment"} <= set(source.info)  # the test's premise
    declaration = "thumbnail:64x64:auto,j:100x100:jpeg:watermark,p:90x90:png,w:80x80:webp,a:70x70:avif"
    rendered = make_renditions(data, parse_renditions(declaration), WATERMARK)
    assert rendered.source.camera.latitude is not None  # read, but never written anywhere
    for rendition in rendered.renditions:
        decoded = decode(rendition.data)
        assert not decoded.getexif(), rendition.name
        assert not {"exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp"} & set(decoded.info), (
            rendition.name,
            decoded.info.keys(),
        )
        if rendition.format == "JPEG":
            # SOI, then only JFIF (APP0), tables, frame and scan: no APP1 (EXIF/XMP), APP2 (ICC),
            # APP13 (IPTC) or COM. A proof keeps no metadata at all.
            assert set(_jpeg_markers(rendition.data)) <= {0xD8, 0xE0, 0xDB, 0xC0, 0xC4, 0xDD, 0xDA}, (
                rendition.name
            )
        elif rendition.format == "PNG":
            assert set(_png_chunks(rendition.data)) <= {b"IHDR", b"IDAT", b"IEND"}
        elif rendition.format == "WEBP":
            assert set(_webp_chunks(rendition.data)) <= {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}
        assert b"Canon" not in rendition.data and b"shot by" not in rendition.data


# --- errors ----------------------------------------------------------------------------------


def test_a_bug_of_ours_propagates_as_itself(monkeypatch):
    """Only the decoder's calls on the input are the input's fault (CORRUPT_IMAGE)."""

    def broken(*_args, **_kwargs):
        raise TypeError("a bug of ours")

    for helper in ("_to_working_mode", "_resize", "_apply_watermark", "encode_image"):
        with monkeypatch.context() as patch:
            patch.setattr(imaging, helper, broken)
            with pytest.raises(TypeError, match="a bug of ours"):
                make_renditions(images.jpeg(800, 600), DEFAULTS, WATERMARK)


def test_a_decoder_failure_is_the_inputs_fault():
    with pytest.raises(ImageRejectedError) as rejected:
        make_renditions(images.jpeg(800, 600)[:700], DEFAULTS, WATERMARK)
    assert rejected.value.code == ErrorCode.CORRUPT_IMAGE


def test_a_watermarked_rendition_without_a_watermark_is_refused():
    with pytest.raises(ValueError, match="'proof' is watermarked, but no watermark was given"):
        make_renditions(images.jpeg(100, 100), DEFAULTS)


def test_requests_that_cannot_be_served():
    with pytest.raises(ValueError, match="no rendition requested"):
        make_renditions(images.jpeg(100, 100), [])
    with pytest.raises(ValueError, match="unknown format 'gif'"):
        make_renditions(images.jpeg(100, 100), [spec("thumbnail", (10, 10), "gif")])


def test_rejections_come_before_any_work():
    with pytest.raises(ImageRejectedError) as rejected:
        make_renditions(images.png_claiming(30000, 30000), DEFAULTS, WATERMARK)
    assert rejected.value.code == ErrorCode.IMAGE_TOO_LARGE


# --- resampling quality ----------------------------------------------------------------------


def test_fine_detail_does_not_alias():
    # One-pixel stripes (the finest detail there is) average to flat grey when downscaled; a
    # filter that aliases (nearest, box, Image.reduce alone) draws moire bands instead (a
    # standard deviation of 100 and more). At 1.25x (the web rendition) no practical filter
    # removes them all; the chained renditions must not add any.
    stripes = Image.frombytes("L", (1999, 1500), bytes(255 * (x % 2) for x in range(1999)) * 1500)
    unmarked = parse_renditions(DEFAULT_RENDITIONS.replace(":watermark", ""))
    rendered = make_renditions(images.encode(stripes, "PNG"), unmarked)
    limits = {"web": 25, "proof": 8, "thumbnail": 3}
    for rendition in rendered.renditions:
        grey = decode(rendition.data).convert("L")
        assert ImageStat.Stat(grey).stddev[0] < limits[rendition.name], rendition.name


def test_chained_renditions_match_a_direct_lanczos_resize():
    data = images.jpeg(2400, 1800, quality=95)
    full = decode(data)
    specs = [
        spec("web", (1600, 1600), "png"),
        spec("mid", (1024, 1024), "png"),
        spec("thumbnail", (256, 256), "png"),
    ]
    for rendition in make_renditions(data, specs).renditions:
        reference = full.resize((rendition.width, rendition.height), Image.Resampling.LANCZOS)
        difference = ImageStat.Stat(ImageChops.difference(decode(rendition.data), reference))
        mse = sum(difference.sum2) / (3 * rendition.width * rendition.height)
        assert 10 * math.log10(255**2 / max(mse, 1e-9)) > 38, rendition.name
