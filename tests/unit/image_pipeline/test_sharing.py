"""Share links, pure: expiry requests, tokens, and when a link stops working."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from image_pipeline import sharing
from image_pipeline.errors import InvalidRequestError, ShareGoneError, ShareNotFoundError

NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "seconds"),
    [(None, 3 * 86400), ({}, 3 * 86400), ({"expiresIn": 1}, 1), ({"expiresIn": 604800}, 604800)],
)
def test_expiry_defaults_to_three_days_and_allows_up_to_seven(body, seconds):
    assert sharing.parse_expiry(body) == seconds


@pytest.mark.parametrize(
    "body",
    [
        {"expiresIn": 0},
        {"expiresIn": -5},
        {"expiresIn": 604801},
        {"expiresIn": "3d"},
        {"expiresIn": True},
        [],
        {"x": 1},
    ],
)
def test_bad_expiry_is_a_clear_400(body):
    with pytest.raises(InvalidRequestError) as raised:
        sharing.parse_expiry(body)
    assert raised.value.code in ("INVALID_EXPIRY", "INVALID_BODY") and raised.value.message


def test_a_new_share_is_random_and_expires_when_asked():
    first, second = (sharing.new_share("a" * 32, "e1f2", 3600, NOW) for _ in range(2))
    assert first.token != second.token and sharing.is_token(first.token)
    assert first.expires_at == "2026-11-24T13:00:00Z" and first.created_at == "2026-11-24T12:00:00Z"
    assert first.expires_epoch == int((NOW + timedelta(hours=1)).timestamp())


def test_a_link_works_until_it_expires_or_is_revoked():
    share = sharing.new_share("a" * 32, "e1f2", 600, NOW)
    assert sharing.seconds_left(share, NOW) == 600
    assert sharing.seconds_left(share, NOW + timedelta(seconds=599)) == 1
    with pytest.raises(ShareGoneError, match="expired"):
        sharing.seconds_left(share, NOW + timedelta(seconds=600))
    with pytest.raises(ShareGoneError, match="revoked"):
        sharing.seconds_left(replace(share, revoked_at="2026-11-24T12:01:00Z"), NOW)
    with pytest.raises(ShareNotFoundError):
        sharing.seconds_left(None, NOW)


def test_a_link_lives_at_least_as_long_as_asked_even_when_made_mid_second():
    made = NOW + timedelta(milliseconds=300)
    share = sharing.new_share("a" * 32, "e1f2", 2, made)  # expires at 12:00:03, rounded up
    assert sharing.seconds_left(share, made + timedelta(milliseconds=1900)) == 1  # 0.8 s left
    assert sharing.seconds_left(share, made + timedelta(milliseconds=2650)) == 1  # 0.05 s left
    with pytest.raises(ShareGoneError, match="expired"):
        sharing.seconds_left(share, made + timedelta(milliseconds=2700))


@pytest.mark.parametrize("text", ["", "short", "A" * 31 + "!", "A" * 33, "../" * 11])
def test_only_tokens_we_issue_look_like_tokens(text):
    assert not sharing.is_token(text)
