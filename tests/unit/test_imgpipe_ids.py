"""imgpipe's short ids: shown as short as they stay unique, accepted as git accepts commit prefixes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from imgpipe import describe

IDS = ["0a1b2c3d4e5f" + "0" * 20, "0a1b2c3d9999" + "0" * 20, "ffee0000" + "1" * 24]


def test_short_ids_grow_until_unique():
    assert describe.short_ids(IDS[2:]) == {IDS[2]: "ffee0000"}  # 8 digits at least
    # One length for all listed (a column that lines up): the first at which they all differ.
    assert describe.short_ids(IDS) == {IDS[0]: "0a1b2c3d4", IDS[1]: "0a1b2c3d9", IDS[2]: "ffee00001"}


def test_a_unique_prefix_resolves():
    assert describe.matching_id("ffee", IDS) == IDS[2]
    assert describe.matching_id("0A1B2C3D4", IDS) == IDS[0]  # case as typed


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("0a1b", "0a1b is ambiguous: " + ", ".join(sorted(IDS[:2]))),
        ("abcd", "no image id starts with abcd"),
        ("ffe", "'ffe' is not an image id: 32 hex digits, or the first 4 or more of them"),
        ("photo.jpg", "'photo.jpg' is not an image id: 32 hex digits, or the first 4 or more of them"),
    ],
)
def test_what_does_not_resolve_says_why(given, message):
    with pytest.raises(describe.IdPrefixError) as error:
        describe.matching_id(given, IDS)
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("created", "words"),
    [
        ("2026-11-24T12:00:00Z", "now"),
        ("2026-11-24T11:59:15Z", "45 s"),
        ("2026-11-24T11:48:00Z", "12 min"),
        ("2026-11-24T07:00:00+00:00", "5 h"),
        ("2026-11-21T12:00:00Z", "3 d"),
        ("2026-10-01T12:00:00Z", "7 w"),
    ],
)
def test_age_in_a_few_characters(created, words):
    assert describe.age(created, datetime(2026, 11, 24, 12, 0, tzinfo=UTC)) == words
