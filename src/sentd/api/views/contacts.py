"""ContactResponse."""

from __future__ import annotations

from typing import Any

from sentd.services.contacts import Visible


def contact(visible: Visible) -> dict[str, Any]:
    row = visible.row
    return {
        "id": str(row["id"]),
        "customer_id": str(row["customer_id"]),
        "phone_number": row["phone_number"],
        "format_e164": row["phone_e164"],
        "format_international": row["format_international"],
        "format_national": row["format_national"],
        "format_rfc": row["format_rfc"],
        "country_code": row["country_code"],
        "region_code": row["region_code"],
        "available_channels": row["available_channels"],
        "default_channel": row["default_channel"],
        "opt_out": row["opt_out"],
        "is_inherited": visible.inherited,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
