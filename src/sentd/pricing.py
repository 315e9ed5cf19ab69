"""Prices per message (channel × region × template category) and per started minute of a call
(`voice` × region), from a price list shipped with
sentd (`sentd/data/pricing.json`) or the file named by `SENTD_PRICING_FILE`.

A region without its own price for a channel uses the default. WhatsApp is priced by template
category; free text (a reply inside an open conversation) is `TEXT`. Amounts are in currency
units in the file and micro-units everywhere else.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from sentd.money import units_to_micros


@lru_cache(maxsize=4)
def price_list(path: Path | None = None) -> dict[str, Any]:
    if path is not None:
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    text = resources.files("sentd.data").joinpath("pricing.json").read_text()
    shipped: dict[str, Any] = json.loads(text)
    return shipped


def price_micros(
    prices: dict[str, Any], channel: str, region: str | None, category: str | None
) -> int:
    regional = prices.get("regions", {}).get(region or "", {})
    entry = regional.get(channel, prices["default"][channel])
    if isinstance(entry, dict):
        default_entry = prices["default"][channel]
        key = category or "TEXT"
        value = entry.get(key, default_entry.get(key, default_entry.get("UTILITY", 0)))
    else:
        value = entry
    return units_to_micros(str(value))
