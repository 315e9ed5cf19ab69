"""Customer URLs are stored in one canonical form: IDNA host, percent-encoded path and query."""

from __future__ import annotations

import pytest

from sentd.outbound.urls import InvalidUrl, NotHttpUrl, normalize_url


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("https://пример.рф/h", "https://xn--e1afmkfd.xn--p1ai/h"),
        ("https://example.com/вебхук", "https://example.com/%D0%B2%D0%B5%D0%B1%D1%85%D1%83%D0%BA"),
        ("https://Bücher.DE/a b?q=ж я", "https://xn--bcher-kva.de/a%20b?q=%D0%B6%20%D1%8F"),
        ("HTTPS://Example.COM:443", "https://example.com/"),
        ("http://example.com:8080/x?a=1&b=%2F", "http://example.com:8080/x?a=1&b=%2F"),
        ("https://example.com/100%?x=50%", "https://example.com/100%25?x=50%25"),
        ("https://[::FFFF:127.0.0.1]/x", "https://[::ffff:127.0.0.1]/x"),
        ("https://[0:0:0:0:0:ffff:7f00:1]/x", "https://[::ffff:127.0.0.1]/x"),
        ("https://[2001:DB8:0:0:0:0:0:1]:8443/x", "https://[2001:db8::1]:8443/x"),
        ("  https://example.com/hook  ", "https://example.com/hook"),
    ],
)
def test_normalised_once_and_for_all(given: str, stored: str) -> None:
    assert normalize_url(given) == stored
    assert normalize_url(stored) == stored  # normalising again changes nothing


@pytest.mark.parametrize(
    "url",
    [
        "https://exa mple.com/",
        "https://exa\tmple.com/",
        "https://example.com/a\nb",
        "https://xn--zz.com/",
        "http://example.com:99999/",
        "https://[::1/",
        "https://" + "a" * 64 + ".com/",
        "https://example.com/" + "é" * 1000,
    ],
)
def test_urls_without_a_normal_form_are_refused(url: str) -> None:
    with pytest.raises(InvalidUrl) as refused:
        normalize_url(url)
    assert not isinstance(refused.value, NotHttpUrl)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "example.com/hook", "https://", "mailto:a@b"]
)
def test_only_absolute_http_urls(url: str) -> None:
    with pytest.raises(NotHttpUrl):
        normalize_url(url)
