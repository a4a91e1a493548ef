"""Every accepted format x every EXIF orientation comes out upright, turned exactly once.

The source is an upright scene (four coloured quadrants) stored the way a camera would store it
for each orientation. Pillow 13 turns a TIFF upright itself while loading, and pillow-heif turns
a HEIC upright itself; JPEG, PNG, WebP and AVIF are ours to turn. GIF and BMP cannot carry an
EXIF orientation.
"""

from __future__ import annotations

import io

import pytest
from image_pipeline.imaging import make_renditions
from image_pipeline.renditions import RenditionSpec
from PIL import Image, ImageOps

from tests import images

CARRY_ORIENTATION = ("JPEG", "PNG", "WEBP", "TIFF", "HEIF", "AVIF")
CASES = [(image_format, orientation) for image_format in CARRY_ORIENTATION for orientation in range(1, 9)]
CASES += [("GIF", 1), ("BMP", 1)]
SPECS = (RenditionSpec("thumbnail", 64, 64, "png", 100), RenditionSpec("small", 30, 30, "jpeg", 95))


def quadrant_colours(image: Image.Image) -> list[tuple[int, ...]]:
    image = image.convert("RGB")
    points = [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)]
    return [image.getpixel((int(image.width * x), int(image.height * y))) for x, y in points]


def same_colours(got: list[tuple[int, ...]], want: list[tuple[int, ...]]) -> bool:
    return all(
        max(abs(a - b) for a, b in zip(g, w, strict=True)) < 40 for g, w in zip(got, want, strict=True)
    )


@pytest.mark.parametrize(("image_format", "orientation"), CASES, ids=[f"{f}-{o}" for f, o in CASES])
def test_comes_out_upright(image_format, orientation):
    if image_format in ("GIF", "BMP"):
        data = images.encode(images.scene(96, 64), image_format)
    else:
        data = images.oriented(image_format, orientation)
    truth = quadrant_colours(images.scene(96, 64))
    full = Image.open(io.BytesIO(data))
    full.load()
    reference = ImageOps.exif_transpose(full)  # (TIFF and HEIC: already upright after load)
    assert reference.size == (96, 64)
    assert same_colours(quadrant_colours(reference), truth)

    rendered = make_renditions(data, SPECS)

    facts = rendered.source
    assert (facts.width, facts.height) == (96, 64)
    assert facts.orientation == (orientation if image_format in CARRY_ORIENTATION else 1)
    for rendition, size in zip(rendered.renditions, [(64, 43), (30, 20)], strict=True):
        result = Image.open(io.BytesIO(rendition.data))
        assert result.size == size == (rendition.width, rendition.height)
        assert same_colours(quadrant_colours(result), truth), (rendition.name, quadrant_colours(result))


def test_tiff_is_turned_once_and_reports_its_upright_size():
    # Before the engine, a TIFF with orientation 6 was turned by Pillow and then again by us.
    data = images.oriented("TIFF", 6, 120, 40)
    assert Image.open(io.BytesIO(data)).size == (120, 40)  # Pillow 13: upright from the header on
    rendered = make_renditions(data, SPECS)
    assert (rendered.source.width, rendered.source.height) == (120, 40)
    assert (rendered.renditions[0].width, rendered.renditions[0].height) == (64, 21)
