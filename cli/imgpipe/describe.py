"""Plain words for what the API returns: durations, sizes, times, camera facts. Pure, no I/O."""

from __future__ import annotations

import re
from datetime import datetime

SECOND, MINUTE, HOUR, DAY, WEEK = 1, 60, 3600, 86400, 604800
MAX_SHARE_SECONDS = 7 * DAY  # what the API accepts
_DURATION = re.compile(r"^([0-9]+)([smhdw]?)$")
_UNITS = {"": SECOND, "s": SECOND, "m": MINUTE, "h": HOUR, "d": DAY, "w": WEEK}


class DurationError(ValueError):
    pass


def parse_duration(text: str) -> int:
    """'90s', '30m', '12h', '3d', '1w' or plain seconds -> seconds, from 1 second to 7 days."""
    match = _DURATION.match(text.strip())
    if not match:
        raise DurationError(f"{text!r} is not a duration; use e.g. 90s, 30m, 12h, 3d, 1w or seconds")
    seconds = int(match[1]) * _UNITS[match[2]]
    if not 0 < seconds <= MAX_SHARE_SECONDS:
        raise DurationError(f"{text!r} is out of range: a link lasts from 1 second to 7 days")
    return seconds


def duration(seconds: float) -> str:
    """Roughly, as people say it: '45 seconds', '30 minutes', '12 hours', '3 days'."""
    seconds = max(0, round(seconds))
    for size, unit in ((DAY, "day"), (HOUR, "hour"), (MINUTE, "minute")):
        if seconds >= 2 * size or seconds == size:
            count = round(seconds / size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def parse_time(text: str) -> datetime:
    """ISO 8601 as the API writes it ('Z' or an offset; naive when the camera recorded none)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def local_time(text: str) -> str:
    """An API timestamp in this machine's time zone, e.g. '4 May 2026, 09:30 CEST'."""
    moment = parse_time(text).astimezone()
    return f"{moment.day} {moment:%b %Y, %H:%M} {moment.tzname() or ''}".rstrip()


def captured(text: str) -> str:
    """The camera's own clock, as it was where the photo was taken (not converted)."""
    moment = parse_time(text)
    words = f"{moment.day} {moment:%b %Y, %H:%M}"
    offset = moment.utcoffset()
    if offset is not None:
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        words += f" (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"
    return words


def byte_size(size: int) -> str:
    """'812 B', '48 KB', '1.4 MB' (1 KB = 1024 B, as file managers count)."""
    if size < 1024:
        return f"{size} B"
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}" if size < 10 else f"{size:.0f} {unit}"
    raise AssertionError("unreachable")


def number(value: float) -> str:
    """35.0 -> '35', 2.8 -> '2.8'."""
    return f"{value:g}"


def camera(item: dict) -> str | None:
    """'Canon EOS R5': the make once, even when the model repeats it (as most cameras write it)."""
    make, model = (str(item.get(name, "")).strip() for name in ("CameraMake", "CameraModel"))
    if make and model and model.lower().startswith(make.split()[0].lower()):
        return model
    return " ".join(part for part in (make, model) if part) or None


def exposure(item: dict) -> str | None:
    """'35 mm · f/2.8 · 1/250 s · ISO 400', from whichever of them the camera recorded."""
    parts = []
    if "FocalLength" in item:
        parts.append(f"{number(float(item['FocalLength']))} mm")
    if "FNumber" in item:
        parts.append(f"f/{number(float(item['FNumber']))}")
    if "ExposureTime" in item:
        parts.append(f"{item['ExposureTime']} s")
    if "ISO" in item:
        parts.append(f"ISO {item['ISO']}")
    return " · ".join(parts) or None


def camera_facts(item: dict) -> list[tuple[str, str]]:
    """(label, words) for each camera fact the image has, in the order a photographer reads them."""
    facts = [
        ("captured", captured(item["CapturedAt"]) if "CapturedAt" in item else None),
        ("camera", camera(item)),
        ("lens", item.get("LensModel")),
        ("exposure", exposure(item)),
        ("colour profile", item.get("ColorProfile")),
    ]
    if "Latitude" in item and "Longitude" in item:
        facts.append(("location", f"{float(item['Latitude']):.5f}, {float(item['Longitude']):.5f}"))
    return [(label, str(words)) for label, words in facts if words]


def age(text: str, now: datetime) -> str:
    """How long ago, in a few characters: 'now', '45 s', '12 min', '5 h', '3 d', '7 w'."""
    seconds = (now - parse_time(text)).total_seconds()
    if seconds < 5:
        return "now"
    for size, unit in ((WEEK, "w"), (DAY, "d"), (HOUR, "h"), (MINUTE, "min")):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


SHORT_ID = 8  # hex digits, as git abbreviates commits to 7


def short_ids(ids: list[str], minimum: int = SHORT_ID) -> dict[str, str]:
    """Each id's shortest prefix of at least `minimum` digits that no other id listed shares."""
    length = minimum
    while len({image_id[:length] for image_id in ids}) < len(set(ids)):
        length += 1
    return {image_id: image_id[:length] for image_id in ids}


_ID_PREFIX = re.compile(r"^[0-9a-f]{4,32}$")


class IdPrefixError(ValueError):
    pass


def matching_id(prefix: str, ids: list[str]) -> str:
    """The one id that starts with `prefix` (at least 4 hex digits), as git resolves short ids."""
    prefix = prefix.strip().lower()
    if not _ID_PREFIX.match(prefix):
        raise IdPrefixError(f"{prefix!r} is not an image id: 32 hex digits, or the first 4 or more of them")
    found = sorted({image_id for image_id in ids if image_id.startswith(prefix)})
    if not found:
        raise IdPrefixError(f"no image id starts with {prefix}")
    if len(found) > 1:
        shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        raise IdPrefixError(f"{prefix} is ambiguous: {shown}")
    return found[0]
