"""Colour: every rendition is sRGB, through the source's embedded ICC profile when it has one.

The profiles are built in tests/images.py (Display P3 and Adobe RGB (1998) primaries, a gamma
1.8 grey, a CMYK printer with dot gain); the reference is lcms converting the full-size decode.
"""

from __future__ import annotations

import io
import math

import pytest
from image_pipeline import imaging
from image_pipeline.imaging import make_renditions
from image_pipeline.renditions import RenditionSpec
from PIL import Image, ImageCms, ImageDraw

from tests import images

SRGB = ImageCms.createProfile("sRGB")
TO_LAB = ImageCms.buildTransform(SRGB, ImageCms.createProfile("LAB"), "RGB", "LAB")
# Saturated but inside both gamuts' overlap, where the conversion must move them (fully
# saturated primaries would clip to the same sRGB primaries either way), and two greys.
PATCHES = [
    (210, 60, 60),
    (60, 190, 80),
    (70, 90, 210),
    (210, 200, 60),
    (60, 190, 200),
    (190, 70, 190),
    (200, 100, 50),
    (60, 160, 90),
    (128, 128, 128),
    (240, 240, 240),
]
PATCH = 40
PNG_SPEC = (RenditionSpec("thumbnail", 200, 200, "png", 100),)


def patches() -> Image.Image:
    image = Image.new("RGB", (PATCH * 5, PATCH * 2))
    draw = ImageDraw.Draw(image)
    for index, colour in enumerate(PATCHES):
        x, y = (index % 5) * PATCH, (index // 5) * PATCH
        draw.rectangle((x, y, x + PATCH - 1, y + PATCH - 1), fill=colour)
    return image


def patch_centres(image: Image.Image) -> list[tuple[int, int]]:
    step_x, step_y = image.width / 5, image.height / 2
    return [(int((i % 5 + 0.5) * step_x), int((i // 5 + 0.5) * step_y)) for i in range(len(PATCHES))]


def delta_e(a: Image.Image, b: Image.Image) -> list[float]:
    """CIE76 colour difference at each patch's centre (sRGB in, Lab via lcms)."""
    lab_a, lab_b = TO_LAB.apply(a.convert("RGB")), TO_LAB.apply(b.convert("RGB"))
    differences = []
    for point in patch_centres(a):
        (l1, a1, b1), (l2, a2, b2) = lab_a.getpixel(point), lab_b.getpixel(point)
        differences.append(math.sqrt(((l1 - l2) * 100 / 255) ** 2 + (a1 - a2) ** 2 + (b1 - b2) ** 2))
    return differences


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def to_srgb(image: Image.Image, profile: bytes, mode: str = "RGB") -> Image.Image:
    source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    return ImageCms.profileToProfile(image, source, SRGB, outputMode=mode)


@pytest.mark.parametrize("container", ["PNG", "JPEG"])
@pytest.mark.parametrize(
    ("profile", "description"),
    [(images.display_p3_profile(), "Display P3"), (images.adobe_rgb_profile(), "Adobe RGB (1998)")],
)
def test_wide_gamut_sources_come_out_srgb(profile, description, container):
    options = {"quality": 98, "subsampling": 0} if container == "JPEG" else {}
    data = images.encode(patches(), container, icc_profile=profile, **options)
    full = decode(data)
    reference = to_srgb(full, profile).resize((200, 80), Image.Resampling.LANCZOS)
    naive = full.convert("RGB").resize((200, 80), Image.Resampling.LANCZOS)

    rendered = make_renditions(data, PNG_SPEC)
    result = decode(rendered.renditions[0].data)

    assert result.size == (200, 80) and "icc_profile" not in result.info
    assert rendered.source.camera.color_profile == description
    converted = delta_e(result, reference)
    assert sum(converted) / len(converted) <= 1.5 and max(converted) <= 4, converted
    unconverted = delta_e(result, naive)  # what the output would be without colour management
    assert sum(unconverted) / len(unconverted) >= 5 and max(unconverted) >= 10, unconverted


def test_the_conversion_keeps_alpha():
    source = patches().convert("RGBA")
    ImageDraw.Draw(source).rectangle((0, 0, 19, 19), fill=(0, 0, 0, 0))
    data = images.encode(source, "PNG", icc_profile=images.display_p3_profile())
    result = decode(make_renditions(data, PNG_SPEC).renditions[0].data)
    assert result.mode == "RGBA" and result.getpixel((2, 2))[3] == 0 and result.getpixel((30, 30))[3] == 255
    reference = to_srgb(decode(data).convert("RGB"), images.display_p3_profile())
    assert max(delta_e(result.convert("RGB"), reference.resize(result.size))[1:]) <= 4


def test_cmyk_jpeg_through_its_profile():
    profile = images.cmyk_icc_profile()
    data = images.encode(patches().convert("CMYK"), "JPEG", quality=98, icc_profile=profile)
    full = decode(data)
    assert full.mode == "CMYK"
    reference = to_srgb(full, profile).resize((200, 80), Image.Resampling.LANCZOS)
    plain = full.convert("RGB").resize((200, 80), Image.Resampling.LANCZOS)

    rendered = make_renditions(data, PNG_SPEC)
    result = decode(rendered.renditions[0].data)

    assert result.mode == "RGB" and rendered.source.camera.color_profile == "Dot gain CMYK"
    converted = delta_e(result, reference)
    assert sum(converted) / len(converted) <= 1.5, converted
    assert max(delta_e(result, plain)) >= 10  # the profile's dot gain shows in the mid-tones


def test_cmyk_jpeg_without_profile_gets_the_plain_conversion():
    data = images.encode(patches().convert("CMYK"), "JPEG", quality=98)
    full = decode(data)
    result = decode(make_renditions(data, PNG_SPEC).renditions[0].data)
    plain = full.convert("RGB").resize(result.size, Image.Resampling.LANCZOS)
    assert max(delta_e(result, plain)) <= 3


def test_greyscale_with_a_grey_profile_stays_grey_and_follows_the_profile():
    profile = images.gray_icc_profile(1.8)
    ramp = images.gradient("L", 200, 80)
    data = images.encode(ramp, "PNG", icc_profile=profile)
    result = decode(make_renditions(data, PNG_SPEC).renditions[0].data)
    assert result.mode == "L"
    reference = to_srgb(ramp, profile).convert("L")
    for x in range(10, 200, 30):
        assert abs(result.getpixel((x, 40)) - reference.getpixel((x, 40))) <= 2
    # Gamma 1.8 mid-grey is lighter in sRGB: the output is not the unconverted pixels.
    assert result.getpixel((100, 40)) - ramp.getpixel((100, 40)) >= 10


def test_an_srgb_profile_changes_nothing():
    untagged = images.encode(patches(), "PNG")
    tagged = images.encode(patches(), "PNG", icc_profile=ImageCms.ImageCmsProfile(SRGB).tobytes())
    assert (
        make_renditions(tagged, PNG_SPEC).renditions[0].data
        == make_renditions(untagged, PNG_SPEC).renditions[0].data
    )


@pytest.mark.parametrize("profile", [b"not a profile at all" * 10, images.gray_icc_profile(2.2)])
def test_an_unusable_profile_is_ignored(profile):
    # Unparseable, or a grey profile on RGB pixels: browsers ignore it, and so do we.
    untagged = make_renditions(images.encode(patches(), "PNG"), PNG_SPEC).renditions[0].data
    rendered = make_renditions(images.encode(patches(), "PNG", icc_profile=profile), PNG_SPEC)
    assert rendered.renditions[0].data == untagged


def test_transforms_are_built_once_per_profile_and_the_cache_is_bounded(monkeypatch):
    built = []
    original = imaging._build_colour_transform

    def counting(icc, mode):
        built.append(icc)
        return original(icc, mode)

    monkeypatch.setattr(imaging, "_build_colour_transform", counting)
    monkeypatch.setattr(imaging, "_transforms", type(imaging._transforms)())
    profiles = [
        images.rgb_icc_profile(f"Gamma {gamma}", images.ADOBE_RGB_PRIMARIES, gamma) for gamma in (1.8, 2.2)
    ]
    small = [images.encode(patches().resize((20, 8)), "PNG", icc_profile=profile) for profile in profiles]
    for data in small * 3:
        make_renditions(data, PNG_SPEC)
    assert built == profiles

    for index in range(imaging._TRANSFORM_CACHE_SIZE + 4):
        profile = images.rgb_icc_profile("Gamma", images.ADOBE_RGB_PRIMARIES, 1.5 + index / 20)
        make_renditions(images.encode(patches().resize((20, 8)), "PNG", icc_profile=profile), PNG_SPEC)
    assert len(imaging._transforms) == imaging._TRANSFORM_CACHE_SIZE


@pytest.mark.parametrize(
    ("profile", "decode_curve", "to_srgb_linear"),
    [
        (
            images.display_p3_profile(),
            "srgb",
            ((1.2249, -0.2247, 0.0), (-0.0420, 1.0419, 0.0), (-0.0197, -0.0786, 1.0979)),
        ),
        (
            images.adobe_rgb_profile(),
            563 / 256,
            ((1.3982, -0.3982, 0.0), (0.0, 1.0, 0.0), (0.0, -0.0429, 1.0429)),
        ),
    ],
)
def test_the_profiles_made_for_these_tests_match_the_published_conversions(
    profile, decode_curve, to_srgb_linear
):
    """The builder in tests/images.py against the published linear conversion matrices."""

    def linear(value: float) -> float:
        if decode_curve == "srgb":
            return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4
        return value**decode_curve

    def encoded(value: float) -> int:
        value = min(1.0, max(0.0, value))
        return round(255 * (12.92 * value if value <= 0.0031308 else 1.055 * value ** (1 / 2.4) - 0.055))

    for colour in ((200, 100, 50), (60, 160, 90), (128, 128, 128), (30, 60, 200)):
        rgb = [linear(channel / 255) for channel in colour]
        want = tuple(encoded(sum(row[i] * rgb[i] for i in range(3))) for row in to_srgb_linear)
        got = to_srgb(Image.new("RGB", (1, 1), colour), profile).getpixel((0, 0))
        assert all(abs(g - w) <= 2 for g, w in zip(got, want, strict=True)), (colour, got, want)
