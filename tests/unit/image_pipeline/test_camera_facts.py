"""Camera facts from the source's EXIF, in every format that carries EXIF."""

from __future__ import annotations

import struct

import pytest
from image_pipeline.imaging import CameraFacts, make_renditions
from image_pipeline.renditions import RenditionSpec
from PIL import ExifTags, Image, TiffImagePlugin

from tests import images

SPECS = (RenditionSpec("thumbnail", 32, 32, "auto", 85),)


def rational(numerator: int, denominator: int) -> TiffImagePlugin.IFDRational:
    return TiffImagePlugin.IFDRational(numerator, denominator)


def camera_exif(**exif_ifd: object) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.Model] = "Canon EOS R5"
    exif[ExifTags.Base.Orientation] = 1
    settings = exif.get_ifd(ExifTags.IFD.Exif)
    settings[ExifTags.Base.DateTimeOriginal] = "2024:05:17 14:03:27"
    settings[ExifTags.Base.OffsetTimeOriginal] = "+02:00"
    settings[ExifTags.Base.LensModel] = "RF24-70mm F2.8 L IS USM"
    settings[ExifTags.Base.FocalLength] = rational(35, 1)
    settings[ExifTags.Base.FNumber] = rational(28, 10)
    settings[ExifTags.Base.ExposureTime] = rational(1, 250)
    settings[ExifTags.Base.ISOSpeedRatings] = 400
    settings.update({int(tag): value for tag, value in exif_ifd.items()})
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (rational(33, 1), rational(51, 1), rational(3528, 100))
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (rational(151, 1), rational(12, 1), rational(3348, 100))
    return exif


EXPECTED = CameraFacts(
    captured_at="2024-05-17T14:03:27+02:00",
    camera_make="Canon",
    camera_model="Canon EOS R5",
    lens_model="RF24-70mm F2.8 L IS USM",
    focal_length=35.0,
    f_number=2.8,
    exposure_time="1/250",
    iso=400,
    color_profile=None,
    latitude=-33.8598,
    longitude=151.2093,
)


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "TIFF", "AVIF", "HEIF"])
def test_exact_facts_from_every_format_that_carries_exif(image_format):
    if image_format == "HEIF":
        images.heic(8, 8)  # registers the plugin
    data = images.encode(images.photo(64, 48), image_format, exif=camera_exif().tobytes())
    assert make_renditions(data, SPECS).source.camera == EXPECTED


def test_the_profile_description_is_a_fact():
    data = images.encode(images.photo(64, 48), "JPEG", icc_profile=images.display_p3_profile())
    assert make_renditions(data, SPECS).source.camera == CameraFacts(color_profile="Display P3")


def test_no_exif_no_facts():
    assert make_renditions(images.jpeg(64, 48), SPECS).source.camera == CameraFacts()
    assert make_renditions(images.animated_gif(64, 48), SPECS).source.camera == CameraFacts()


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (rational(1, 250), "1/250"),
        (rational(1, 8000), "1/8000"),
        (rational(2, 1), "2"),
        (rational(30, 1), "30"),
        (rational(5, 10), "1/2"),
        (rational(333, 1000), "1/3"),
        (rational(3, 10), "0.3"),
        (rational(13, 10), "1.3"),
        (rational(10, 40), "1/4"),
        (rational(0, 1), None),
        (rational(1, 0), None),
    ],
)
def test_exposure_time_as_photographers_write_it(value, written):
    data = images.encode(images.photo(16, 16), "JPEG", exif=camera_exif(**{str(0x829A): value}).tobytes())
    assert make_renditions(data, SPECS).source.camera.exposure_time == written


def test_without_an_offset_the_time_is_local():
    exif = camera_exif()
    del exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.OffsetTimeOriginal]
    data = images.encode(images.photo(16, 16), "JPEG", exif=exif.tobytes())
    assert make_renditions(data, SPECS).source.camera.captured_at == "2024-05-17T14:03:27"


@pytest.mark.parametrize(
    ("tag", "value"),
    [
        (ExifTags.Base.DateTimeOriginal, "0000:00:00 00:00:00"),
        (ExifTags.Base.DateTimeOriginal, "yesterday"),
        (ExifTags.Base.FNumber, rational(0, 0)),
        (ExifTags.Base.FocalLength, rational(-5, 1)),
        (ExifTags.Base.ISOSpeedRatings, 0),
    ],
)
def test_values_a_camera_could_not_mean_are_left_out(tag, value):
    data = images.encode(images.photo(16, 16), "JPEG", exif=camera_exif(**{str(int(tag)): value}).tobytes())
    facts = make_renditions(data, SPECS).source.camera
    field = {
        ExifTags.Base.DateTimeOriginal: "captured_at",
        ExifTags.Base.FNumber: "f_number",
        ExifTags.Base.FocalLength: "focal_length",
        ExifTags.Base.ISOSpeedRatings: "iso",
    }[tag]
    assert getattr(facts, field) is None
    assert facts.camera_model == "Canon EOS R5"  # the rest is still read


def _with_exif_pointer_past_the_end(exif_block: bytes) -> bytes:
    """The block with IFD0's pointer to the Exif sub-IFD (0x8769) aimed past its end."""
    tiff = bytearray(exif_block[6:])  # after b"Exif\0\0"
    order = "<" if tiff[:2] == b"II" else ">"
    (ifd0,) = struct.unpack(order + "I", tiff[4:8])
    (count,) = struct.unpack(order + "H", tiff[ifd0 : ifd0 + 2])
    for entry in range(ifd0 + 2, ifd0 + 2 + 12 * count, 12):
        if struct.unpack(order + "H", tiff[entry : entry + 2])[0] == 0x8769:
            tiff[entry + 8 : entry + 12] = struct.pack(order + "I", 0x7FFFFFF0)
            return exif_block[:6] + bytes(tiff)
    raise AssertionError("no Exif sub-IFD pointer")


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_a_damaged_exif_block_costs_the_facts_not_the_image():
    damaged = _with_exif_pointer_past_the_end(camera_exif().tobytes())
    data = images.encode(images.photo(64, 48), "JPEG", exif=damaged)
    rendered = make_renditions(data, SPECS)
    assert rendered.renditions[0].width == 32
    facts = rendered.source.camera
    assert facts.camera_make == "Canon" and facts.latitude == -33.8598  # IFD0 and GPS still read
    assert facts.captured_at is None and facts.iso is None  # the Exif sub-IFD is lost


def test_an_absurdly_long_fact_is_cut_so_that_the_row_stays_small():
    """A hostile file can carry hundreds of KB of 'lens model': cut to 256 characters, which keeps
    the row (400 KB in DynamoDB) and the workflow's state (256 KB in Step Functions) small."""
    exif = camera_exif(**{str(int(ExifTags.Base.LensModel)): "L" * 300_000})
    exif[ExifTags.Base.Model] = "M" * 300_000
    data = images.encode(images.photo(64, 48), "PNG", exif=exif.tobytes())
    camera = make_renditions(data, SPECS).source.camera
    assert camera.lens_model == "L" * 256 and camera.camera_model == "M" * 256
