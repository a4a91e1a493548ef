"""The proof's watermark: tiled over the whole image, visible on light and dark, only where declared."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from image_pipeline import imaging
from image_pipeline.imaging import Watermark, make_renditions, watermark_font
from image_pipeline.renditions import DEFAULT_RENDITIONS, RenditionSpec, parse_renditions
from PIL import Image, ImageChops, ImageDraw, ImageFont

from tests import images

PROOF = RenditionSpec("proof", 1024, 1024, "png", 100, watermark=True)
PLAIN = RenditionSpec("proof", 1024, 1024, "png", 100)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def changed(marked: Image.Image, plain: Image.Image) -> Image.Image:
    """Where the watermark changed the picture: 255, elsewhere 0."""
    difference = ImageChops.difference(marked.convert("RGB"), plain.convert("RGB")).convert("L")
    return difference.point(lambda value: 255 if value > 12 else 0)


def cells(image: Image.Image, count: int = 4):
    for row in range(count):
        for column in range(count):
            box = (
                image.width * column // count,
                image.height * row // count,
                image.width * (column + 1) // count,
                image.height * (row + 1) // count,
            )
            yield (row, column), image.crop(box)


def share(mask: Image.Image) -> float:
    return mask.histogram()[255] / (mask.width * mask.height)


def render(data: bytes, spec: RenditionSpec, watermark: Watermark | None) -> Image.Image:
    return decode(make_renditions(data, [spec], watermark).renditions[0].data)


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("photo", images.jpeg(1600, 1200)),
        ("white", images.encode(Image.new("RGB", (1200, 900), (255, 255, 255)), "PNG")),
        ("black", images.encode(Image.new("RGB", (1200, 900), (0, 0, 0)), "PNG")),
        ("portrait", images.jpeg(900, 1600)),
    ],
)
def test_the_watermark_covers_every_part_of_the_image(name, source):
    watermark = Watermark("© Zoë Müller")
    mask = changed(render(source, PROOF, watermark), render(source, PLAIN, None))
    # In every cell of a 4x4 grid: whatever part of the proof is cropped out, some mark stays.
    for cell, part in cells(mask):
        assert share(part) > 0.03, (name, cell, share(part))
    # Semi-transparent marks with gaps between them, not a veil over the whole picture.
    assert 0.08 < share(mask) < 0.5, (name, share(mask))


def test_the_watermark_shows_on_light_and_dark_and_lets_the_picture_through():
    watermark = Watermark("© Zoë Müller")
    halves = Image.new("RGB", (800, 600), (255, 255, 255))
    halves.paste((0, 0, 0), (400, 0, 800, 600))
    marked = render(images.encode(halves, "PNG"), PROOF, watermark).convert("L")
    light, dark = marked.crop((0, 0, 400, 600)), marked.crop((400, 0, 800, 600))
    assert min(light.getextrema()) < 200  # the dark outline shows on white
    assert max(dark.getextrema()) > 60  # the light fill shows on black
    # Semi-transparent: no mark pixel is solid white on black or solid black on white.
    assert min(light.getextrema()) > 40 and max(dark.getextrema()) < 220


def test_the_watermark_is_sized_relative_to_the_image():
    watermark = Watermark("© Zoë Müller")
    shares = []
    for size in ((2000, 1500), (500, 375)):
        source = images.encode(Image.new("RGB", size, (128, 128, 128)), "PNG")
        spec = RenditionSpec("proof", size[0], size[1], "png", 100, watermark=True)
        shares.append(
            share(changed(render(source, spec, watermark), Image.new("RGB", size, (128, 128, 128))))
        )
    assert shares[0] == pytest.approx(shares[1], rel=0.25), shares


def test_other_renditions_never_carry_the_watermark():
    data = images.jpeg(2400, 1800)
    specs = parse_renditions(DEFAULT_RENDITIONS)
    marked = {r.name: r.data for r in make_renditions(data, specs, Watermark("© Studio")).renditions}
    unmarked_specs = [RenditionSpec(s.name, s.width, s.height, s.format, s.quality) for s in specs]
    plain = {r.name: r.data for r in make_renditions(data, unmarked_specs).renditions}
    assert marked["thumbnail"] == plain["thumbnail"] and marked["web"] == plain["web"]
    assert marked["proof"] != plain["proof"]


def test_a_logo_is_tiled_like_the_text():
    source = images.jpeg(1200, 900)
    for watermark in (
        Watermark("", logo_png=images.logo_png()),
        Watermark("© Studio", logo_png=images.logo_png()),
    ):
        mask = changed(render(source, PROOF, watermark), render(source, PLAIN, None))
        for cell, part in cells(mask):
            assert share(part) > 0.02, (watermark.text, cell, share(part))
    text_only = render(source, PROOF, Watermark("© Studio"))
    assert changed(render(source, PROOF, Watermark("© Studio", images.logo_png())), text_only).getbbox()


def test_a_watermark_needs_a_text_or_a_logo():
    with pytest.raises(ValueError, match="needs a text or a logo"):
        Watermark("  ")


def test_the_font_ships_in_the_package_with_its_licence():
    fonts = Path(imaging.__file__).parent / "fonts"
    assert (fonts / "DejaVuSans-Bold.ttf").is_file()
    assert "Bitstream Vera" in (fonts / "LICENSE-DejaVu.txt").read_text()
    assert watermark_font(40).path == str(fonts / "DejaVuSans-Bold.ttf")
    assert watermark_font(40) is watermark_font(40)  # loaded once per size


def drawn(font: ImageFont.FreeTypeFont, text: str) -> bytes:
    image = Image.new("L", (120, 120))
    ImageDraw.Draw(image).text((20, 20), text, font=font, fill=255)
    return image.tobytes()


@pytest.mark.parametrize("character", list("ZoëÜüŁłąćęńóśźżŽšČřÅåØæßçñ©·"))
def test_names_in_latin_scripts_render_without_tofu(character):
    font = watermark_font(48)
    tofu = drawn(font, "\ufffe")  # not a character: what the font draws for one it lacks (.notdef)
    assert drawn(font, character) != tofu and any(drawn(font, character))


def test_small_images_get_a_watermark_too():
    spec = RenditionSpec("proof", 64, 64, "png", 100, watermark=True)
    source = images.encode(Image.new("RGB", (64, 48), (128, 128, 128)), "PNG")
    assert (
        share(changed(render(source, spec, Watermark("© Zoë")), Image.new("RGB", (64, 48), (128, 128, 128))))
        > 0.05
    )
