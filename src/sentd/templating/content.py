"""What sentd infers from a definition when the client leaves it out: the category and the name.

Category, first rule that matches (see docs/templates.md):

1. AUTHENTICATION — the definition has an `authenticationConfig`, a button carries an `otpType`,
   or the main body speaks of a one-time code (`otp`, `passcode`, `one-time`, `verification
   code`, `security code`, `login code`, `auth code`, `2fa`).
2. MARKETING — a `COPY_CODE` button (an offer code), or the main body uses promotional words
   (`sale`, `discount`, `offer`, `promo`, `promotion`, `coupon`, `deal`, `% off`, `free shipping`,
   `shop now`, `limited time`, `exclusive`, `new arrivals`, `subscribe`).
3. UTILITY — everything else.

Name: the first six words of the main body (a variable counts as its name), lowercased, accents
removed, joined with `_`, at most 60 characters; `template` when no word is left.
"""

from __future__ import annotations

import re
import unicodedata

from sentd.templating.definition import Definition
from sentd.templating.placeholders import Placeholder

_AUTHENTICATION = re.compile(
    r"\b(otp|passcode|one[- ]time|verification code|security code|login code|auth code|2fa)\b",
    re.IGNORECASE,
)
_MARKETING = re.compile(
    r"(\b(sale|discount|offer|promo|promotion|coupon|deals?|free shipping|shop now|"
    r"limited time|exclusive|new arrivals|subscribe)\b|\d+\s?% off)",
    re.IGNORECASE,
)
MAX_DERIVED_NAME = 60
NAME_WORDS = 6


def _main_text(definition: Definition) -> str:
    segments = definition.main_body.text.segments
    return "".join(s if isinstance(s, str) else f" {s.name} " for s in segments)


def detect_category(definition: Definition) -> str:
    text = _main_text(definition)
    if (
        definition.authentication_config is not None
        or any(b.props.get("otpType") for b in definition.buttons)
        or _AUTHENTICATION.search(text)
    ):
        return "AUTHENTICATION"
    if any(b.type == "COPY_CODE" for b in definition.buttons) or _MARKETING.search(text):
        return "MARKETING"
    return "UTILITY"


def derive_name(definition: Definition) -> str:
    segments = definition.main_body.text.segments
    text = "".join(s.name if isinstance(s, Placeholder) else s for s in segments)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())[:NAME_WORDS]
    name = "_".join(words)[:MAX_DERIVED_NAME].strip("_")
    return name or "template"
