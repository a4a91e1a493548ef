"""Share links for proofs, pure: how long they live, what a token looks like, whether one still works.

A share link is not a presigned URL: one signed with a Lambda role's temporary credentials stops
working when those credentials expire (hours), whatever its own expiry says. A link is a random
token stored with its expiry (DynamoDB TTL removes it later); opening it redirects to a fresh,
short-lived presigned GET of the proof, and nothing else.
"""

from __future__ import annotations

import html
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from image_pipeline.errors import InvalidRequestError, ShareGoneError, ShareNotFoundError

DEFAULT_SECONDS = 3 * 24 * 60 * 60
MAX_SECONDS = 7 * 24 * 60 * 60
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass(frozen=True)
class Share:
    token: str
    image_id: str
    source_etag: str  # the photo shared: other content uploaded under its key later is not
    created_at: str  # ISO 8601 UTC
    expires_at: str
    expires_epoch: int  # the TTL attribute: DynamoDB deletes the item some time after this
    revoked_at: str | None = None


def parse_expiry(body: object) -> int:
    """`{"expiresIn": seconds}` (optional, 1 s to 7 days, default 3 days) -> seconds."""
    if body is None:
        return DEFAULT_SECONDS
    if not isinstance(body, dict) or set(body) - {"expiresIn"}:
        raise InvalidRequestError("INVALID_BODY", 'the body must be {"expiresIn": seconds} or empty')
    seconds = body.get("expiresIn", DEFAULT_SECONDS)
    if not isinstance(seconds, int) or isinstance(seconds, bool) or not 0 < seconds <= MAX_SECONDS:
        raise InvalidRequestError(
            "INVALID_EXPIRY", f"expiresIn must be a whole number of seconds from 1 to {MAX_SECONDS} (7 days)"
        )
    return seconds


def new_share(image_id: str, source_etag: str, seconds: int, now: datetime) -> Share:
    expires = now + timedelta(seconds=seconds)
    if expires.microsecond:  # stored to the second: round up, so a link never lives shorter
        expires = expires.replace(microsecond=0) + timedelta(seconds=1)
    return Share(
        token=secrets.token_urlsafe(24),  # 192 random bits, 32 URL-safe characters
        image_id=image_id,
        source_etag=source_etag,
        created_at=iso(now),
        expires_at=iso(expires),
        expires_epoch=int(expires.timestamp()),
    )


def is_token(text: str) -> bool:
    return bool(_TOKEN.match(text))


def seconds_left(share: Share | None, now: datetime) -> int:
    """How long the link still works; raises when it does not (any more)."""
    if share is None:
        raise ShareNotFoundError("no such share link")
    if share.revoked_at:
        raise ShareGoneError("this share link was revoked")
    left = datetime.fromisoformat(share.expires_at).timestamp() - now.timestamp()
    if left <= 0:
        raise ShareGoneError("this share link has expired")
    return math.ceil(left)  # a link with 0.4 s left still works (for a redirect of at least 1 s)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def unavailable_page(reason: str) -> str:
    """What a browser shows for a link that does not work (any more)."""
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        "<title>Proof unavailable</title>"
        '<body style="font:18px/1.5 system-ui,sans-serif;max-width:34em;margin:15vh auto;padding:0 1em">'
        f"<h1>This proof is not available</h1><p>{html.escape(reason.capitalize())}.</p>"
        "<p>Ask the photographer who sent it for a new link.</p></body></html>"
    )
