"""The Renditions template parameter fails a deploy, not an upload: its AllowedPattern (what
CloudFormation and `sam deploy` check) and `make deploy`'s check with the function's own parser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from image_pipeline.renditions import DEFAULT_RENDITIONS, RenditionsError, parse_renditions

from scripts.deploy_stack import DeployError, check_renditions, load_template

TEMPLATE = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
PARAMETER = TEMPLATE["Parameters"]["Renditions"]


def allowed_by_template(text: str) -> bool:
    return re.fullmatch(PARAMETER["AllowedPattern"], text) is not None


def test_the_template_default_is_the_functions_default_and_valid():
    assert PARAMETER["Default"] == DEFAULT_RENDITIONS
    assert allowed_by_template(DEFAULT_RENDITIONS)
    check_renditions(DEFAULT_RENDITIONS)


@pytest.mark.parametrize(
    "declaration",
    [
        "thumbnail:256x256:auto",
        "thumbnail:256x256:auto:85, web:1600x1600:webp:80",
        "thumbnail:128x128:png,print:8192x8192:avif:50,proof:1024x1024:jpeg:watermark",
    ],
)
def test_good_declarations_pass_both_checks(declaration):
    assert allowed_by_template(declaration)
    check_renditions(declaration)


@pytest.mark.parametrize(
    ("declaration", "reason"),
    [
        ("thumbnail:256x256:gif", "format must be one of"),
        ("thumbnail:256:jpeg", "WIDTHxHEIGHT"),
        ("Thumb:256x256:jpeg", "lowercase"),
        ("thumbnail", "expected name:WIDTHxHEIGHT:format"),
        ("", "no rendition"),
    ],
)
def test_malformed_declarations_are_refused_by_the_template_and_by_make_deploy(declaration, reason):
    assert not allowed_by_template(declaration)
    with pytest.raises(DeployError, match=re.escape(reason)):
        check_renditions(declaration)


@pytest.mark.parametrize(
    ("declaration", "reason"),
    [
        ("web:1600x1600:webp", "'thumbnail' is required"),
        ("thumbnail:256x256:jpeg,thumbnail:64x64:png", "declared twice"),
        ("thumbnail:0x256:jpeg", "each 1-8192"),
        ("thumbnail:256x256:jpeg:101", "neither a quality"),
        ("thumbnail:256x256:jpeg:watermark:watermark", "neither a quality"),
    ],
)
def test_what_a_pattern_cannot_see_fails_make_deploy_and_the_cold_start(declaration, reason):
    with pytest.raises(DeployError, match=re.escape(reason)):
        check_renditions(declaration)
    with pytest.raises(RenditionsError, match=re.escape(reason)):
        parse_renditions(declaration)
