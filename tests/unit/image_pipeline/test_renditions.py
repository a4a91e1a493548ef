"""The renditions declaration (template parameter `Renditions`): parsing and its error messages."""

from __future__ import annotations

import pytest
from image_pipeline.renditions import (
    DEFAULT_QUALITY,
    DEFAULT_RENDITIONS,
    MAX_RENDITIONS,
    RenditionsError,
    RenditionSpec,
    parse_renditions,
)


def test_the_default_declaration():
    assert parse_renditions(DEFAULT_RENDITIONS) == (
        RenditionSpec("thumbnail", 256, 256, "auto", 85),
        RenditionSpec("web", 1600, 1600, "webp", 80),
        RenditionSpec("proof", 1024, 1024, "jpeg", 80, watermark=True),
    )


def test_describe_gives_the_declaration_back():
    specs = parse_renditions(DEFAULT_RENDITIONS)
    assert ",".join(spec.describe() for spec in specs) == DEFAULT_RENDITIONS


def test_quality_defaults_per_format_then_watermark():
    specs = parse_renditions("thumbnail:64x64:png, big:2000x1000:avif, mark:10x10:webp:70:watermark")
    assert [spec.quality for spec in specs] == [DEFAULT_QUALITY["png"], DEFAULT_QUALITY["avif"], 70]
    assert specs[2].watermark and not specs[0].watermark


def test_spaces_case_and_empty_entries_are_tolerated():
    specs = parse_renditions(" thumbnail : 256X128 : JPEG : 90 ,, ")
    assert specs == (RenditionSpec("thumbnail", 256, 128, "jpeg", 90),)


def test_order_is_kept():
    specs = parse_renditions("b:10x10:jpeg,thumbnail:20x20:auto,a:30x30:png")
    assert [spec.name for spec in specs] == ["b", "thumbnail", "a"]


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ("", "no rendition declared"),
        (" , ", "no rendition declared"),
        ("thumbnail:256x256", "expected name:WIDTHxHEIGHT:format[:quality][:watermark]"),
        ("thumbnail:256x256:jpeg:80:watermark:x", "expected name:WIDTHxHEIGHT:format"),
        ("Thumbnail:256x256:jpeg", "the name must be lowercase letters, digits and dashes"),
        ("1st:256x256:jpeg,thumbnail:1x1:auto", "starting with a letter"),
        ("a" * 33 + ":256x256:jpeg", "at most 32 characters"),
        ("thumbnail:256:jpeg", "thumbnail: the box must be WIDTHxHEIGHT, each 1-8192, got '256'"),
        ("thumbnail:0x256:jpeg", "the box must be WIDTHxHEIGHT, each 1-8192, got '0x256'"),
        ("thumbnail:8193x10:jpeg", "each 1-8192"),
        ("thumbnail:-5x10:jpeg", "the box must be WIDTHxHEIGHT"),
        (
            "thumbnail:256x256:gif",
            "thumbnail: the format must be one of auto, jpeg, png, webp, avif, got 'gif'",
        ),
        ("thumbnail:256x256:jpeg:0", "thumbnail: '0' is neither a quality (1-100) nor 'watermark'"),
        ("thumbnail:256x256:jpeg:101", "'101' is neither a quality"),
        ("thumbnail:256x256:jpeg:80:90", "'90' is neither a quality"),
        ("thumbnail:256x256:jpeg:85:90", "'90' is neither a quality"),  # 85 is the default, still given
        ("thumbnail:256x256:jpeg:watermark:80", "'80' is neither a quality"),  # the order is fixed
        ("thumbnail:256x256:jpeg:watermark:watermark", "'watermark' is neither a quality"),
        ("thumbnail:256x256:jpeg:high", "'high' is neither a quality"),
        (
            "thumbnail:256x256:jpeg,web:10x10:webp,web:20x20:png",
            "rendition names must be unique: web declared twice",
        ),
        ("web:1600x1600:webp", "a rendition named 'thumbnail' is required"),
        (
            ",".join(["thumbnail:1x1:auto"] + [f"r{n}:1x1:auto" for n in range(MAX_RENDITIONS)]),
            f"at most {MAX_RENDITIONS} renditions, got {MAX_RENDITIONS + 1}",
        ),
    ],
)
def test_errors_say_what_is_wrong(declaration, message):
    with pytest.raises(RenditionsError) as error:
        parse_renditions(declaration)
    assert message in str(error.value)


def test_the_error_is_a_value_error():
    assert issubclass(RenditionsError, ValueError)
