"""Check sentd's error catalog against the published Sent API v3 catalog."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from sentd.errors.catalog import CATALOG, ErrorSpec, get_spec
from sentd.errors.pages import render_error_page_html, render_index_html

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "error-catalog.txt"

# A header such as "AUTH_001: User is not authenticated". In the seed text a header
# can be glued to the end of the preceding code sample (e.g. '...xxxx"AUTH_002: ...'),
# so it is searched for anywhere in the line; the Error Message / HTTP Status lines
# that must follow it keep JSON examples and the quick-reference table from matching.
_HEADER = re.compile(r"(?<![A-Z0-9_])([A-Z]+_\d{3}): \S")
_MESSAGE = re.compile(r'^Error Message: "(.*)"\s*$')
_STATUS = re.compile(r"^HTTP Status: (\d{3})\b")

RETRYABLE_4XX = {"BUSINESS_002", "CONFLICT_001", "REQUEST_002"}


@dataclass(frozen=True)
class SeedEntry:
    code: str
    status: int
    message: str


def _seed_text() -> str:
    if not SEED.is_file():
        reason = f"seed error catalog not found at {SEED}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(f"{reason} (expected shared/ next to the repository checkout)")
    return SEED.read_text(encoding="utf-8")


def _parse(text: str) -> list[SeedEntry]:
    lines = text.splitlines()
    entries: list[SeedEntry] = []
    for i, line in enumerate(lines[:-2]):
        header = _HEADER.search(line)
        if header is None:
            continue
        message = _MESSAGE.match(lines[i + 1])
        status = _STATUS.match(lines[i + 2])
        if message is None or status is None:
            continue
        entries.append(SeedEntry(header.group(1), int(status.group(1)), message.group(1)))
    # Every "Error Message" line must belong to a parsed header, or the parser missed one.
    assert len(entries) == sum(1 for ln in lines if _MESSAGE.match(ln)), "unparsed seed entry"
    return entries


@pytest.fixture(scope="module")
def seed_text() -> str:
    return _seed_text()


@pytest.fixture(scope="module")
def seed(seed_text: str) -> list[SeedEntry]:
    return _parse(seed_text)


def test_seed_codes_are_unique(seed: list[SeedEntry]) -> None:
    codes = [e.code for e in seed]
    assert len(codes) == len(set(codes))


def test_catalog_codes_match_seed(seed: list[SeedEntry]) -> None:
    ours = {code for code, spec in CATALOG.items() if spec.in_catalog}
    assert ours == {e.code for e in seed}


def test_catalog_order_matches_seed(seed: list[SeedEntry]) -> None:
    codes = list(CATALOG)
    n = len(seed)
    assert codes[:n] == [e.code for e in seed]
    assert all(not CATALOG[c].in_catalog for c in codes[n:]), "extensions must come last"


def test_status_and_message_match_seed(seed: list[SeedEntry]) -> None:
    for entry in seed:
        spec = CATALOG[entry.code]
        assert (spec.status, spec.message) == (entry.status, entry.message), entry.code


def test_extension_codes() -> None:
    assert get_spec("ROUTE_NOT_FOUND").status == 404
    assert get_spec("ROUTE_NOT_FOUND").message == "Route not found"
    assert get_spec("METHOD_NOT_ALLOWED").status == 405
    assert get_spec("METHOD_NOT_ALLOWED").message == "Method not allowed for this route"
    assert {c for c, s in CATALOG.items() if not s.in_catalog} == {
        "ROUTE_NOT_FOUND",
        "METHOD_NOT_ALLOWED",
        "ACCOUNT_001",
        "ACCOUNT_002",
        "CONFLICT_006",
        "TEMPLATE_001",
        "PROVIDER_001",
        "PROVIDER_002",
        "PROVIDER_003",
        "ACCOUNT_003",
        "REQUEST_001",
        "REQUEST_002",
        "IDEMPOTENCY_001",
        "VOICE_001",
        "VOICE_002",
        "VOICE_003",
        "VOICE_004",
    }


def test_keys_match_codes_and_unknown_raises() -> None:
    assert all(code == spec.code for code, spec in CATALOG.items())
    with pytest.raises(KeyError):
        get_spec("NOPE_999")


@pytest.mark.parametrize("code", list(CATALOG))
def test_retryable_rule(code: str) -> None:
    spec = CATALOG[code]
    assert spec.retryable is (spec.status >= 500 or code in RETRYABLE_4XX)


@pytest.mark.parametrize("code", list(CATALOG))
def test_prose_present(code: str) -> None:
    spec = CATALOG[code]
    assert spec.title.strip()
    assert spec.cause.strip()
    assert 2 <= len(spec.remediation) <= 4
    assert all(step.strip() for step in spec.remediation)


def test_causes_not_copied_from_seed(seed_text: str) -> None:
    copied = [code for code, spec in CATALOG.items() if spec.cause in seed_text]
    assert not copied, f"cause text copied verbatim from the seed catalog: {copied}"


def _hostile_spec() -> ErrorSpec:
    return ErrorSpec(
        code="TEST_001",
        status=400,
        message="bad <b>message</b>",
        title="Validation",
        cause="Injected <script>alert(1)</script> & more",
        remediation=("step <one>", "step two"),
    )


def test_error_page_escapes_html() -> None:
    page = render_error_page_html(_hostile_spec())
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "&lt;b&gt;message&lt;/b&gt;" in page
    assert "step &lt;one&gt;" in page
    assert 'href="/errors"' in page


def test_index_escapes_html_and_links_codes() -> None:
    page = render_index_html([_hostile_spec(), *CATALOG.values()])
    assert "<b>" not in page
    assert "bad &lt;b&gt;message&lt;/b&gt;" in page
    for code in CATALOG:
        assert f'href="/errors/{code}"' in page


def test_error_page_shows_code_and_status() -> None:
    spec = get_spec("AUTH_001")
    page = render_error_page_html(spec)
    assert spec.code in page
    assert str(spec.status) in page
    assert spec.message in page
