"""The renditions an upload becomes, declared once (template parameter `Renditions`). Pure, no Pillow.

A declaration is a comma-separated list of ``name:WIDTHxHEIGHT:format[:quality][:watermark]``:

    thumbnail:256x256:auto:85,web:1600x1600:webp:80,proof:1024x1024:jpeg:80:watermark

- name: lowercase letters, digits and dashes, starting with a letter (at most 32); unique. The
  ``thumbnail`` rendition is required: it fills the row's Thumbnail* attributes that clients read.
- box: each rendition fits inside it, aspect ratio kept, never upscaled (1-8192 px a side).
- format: ``jpeg``, ``png``, ``webp``, ``avif``, or ``auto`` (JPEG, or PNG when the source has alpha).
- quality: 1-100 (default per format); ignored by PNG.
- watermark: the rendition carries the visible watermark (proofs).

deploy_stack.py imports this file by path before deploying, so it must stay standard-library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_RENDITIONS = "thumbnail:256x256:auto:85,web:1600x1600:webp:80,proof:1024x1024:jpeg:80:watermark"
THUMBNAIL = "thumbnail"
# The rendition that share links serve (watermarked, for clients who have not paid yet).
PROOF = "proof"
MAX_RENDITIONS = 8
MAX_SIDE = 8192
FORMATS = ("auto", "jpeg", "png", "webp", "avif")
DEFAULT_QUALITY = {"auto": 85, "jpeg": 85, "png": 100, "webp": 80, "avif": 60}
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_BOX = re.compile(r"^([0-9]{1,5})x([0-9]{1,5})$")


class RenditionsError(ValueError):
    """The declaration cannot be used; the message says which part and why."""


@dataclass(frozen=True)
class RenditionSpec:
    name: str
    width: int
    height: int
    format: str  # one of FORMATS
    quality: int
    watermark: bool = False

    def describe(self) -> str:
        """Back to the compact form (what the README and logs show)."""
        text = f"{self.name}:{self.width}x{self.height}:{self.format}:{self.quality}"
        return text + (":watermark" if self.watermark else "")


def _parse_one(text: str) -> RenditionSpec:
    parts = [part.strip() for part in text.strip().split(":")]
    if len(parts) < 3 or len(parts) > 5:
        raise RenditionsError(f"{text.strip()!r}: expected name:WIDTHxHEIGHT:format[:quality][:watermark]")
    name, box, image_format, *options = parts
    if not _NAME.match(name):
        raise RenditionsError(
            f"{text.strip()!r}: the name must be lowercase letters, digits and dashes, "
            "starting with a letter, at most 32 characters"
        )
    size = _BOX.match(box.lower())
    if not size or not all(0 < int(side) <= MAX_SIDE for side in size.groups()):
        raise RenditionsError(f"{name}: the box must be WIDTHxHEIGHT, each 1-{MAX_SIDE}, got {box!r}")
    image_format = image_format.lower()
    if image_format not in FORMATS:
        raise RenditionsError(f"{name}: the format must be one of {', '.join(FORMATS)}, got {image_format!r}")
    quality, watermark = None, False
    for option in options:
        if option == "watermark" and not watermark:
            watermark = True
        elif option.isdigit() and quality is None and not watermark and 1 <= int(option) <= 100:
            quality = int(option)
        else:
            raise RenditionsError(f"{name}: {option!r} is neither a quality (1-100) nor 'watermark'")
    if quality is None:
        quality = DEFAULT_QUALITY[image_format]
    return RenditionSpec(name, int(size[1]), int(size[2]), image_format, quality, watermark)


def parse_renditions(text: str) -> tuple[RenditionSpec, ...]:
    """The declaration as specs, in declaration order; RenditionsError says what is wrong."""
    entries = [entry for entry in text.split(",") if entry.strip()]
    if not entries:
        raise RenditionsError("no rendition declared")
    specs = tuple(_parse_one(entry) for entry in entries)
    names = [spec.name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise RenditionsError(f"rendition names must be unique: {', '.join(duplicates)} declared twice")
    if len(specs) > MAX_RENDITIONS:
        raise RenditionsError(f"at most {MAX_RENDITIONS} renditions, got {len(specs)}")
    if THUMBNAIL not in names:
        raise RenditionsError(f"a rendition named {THUMBNAIL!r} is required (the gallery and clients use it)")
    return specs
