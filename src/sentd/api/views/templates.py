"""Template, as the SDK models it (`customer_id` required), plus sentd's extra keys: the stored
`definition`, `rejection_reason`, `is_inherited`, `creation_source` and `whatsapp_template_id`.
`auto_reply_action` is omitted: sentd has no auto-reply templates."""

from __future__ import annotations

from typing import Any

from sentd.services.templates import Template


def template_view(template: Template) -> dict[str, Any]:
    row = template.row
    return {
        "id": str(row["id"]),
        "customer_id": str(row["customer_id"]),
        "name": row["name"],
        "category": row["category"],
        "language": row["language"],
        "status": row["status"],
        "channels": list(row["channels"]),
        "variables": list(row["variables"]),
        "is_published": row["is_published"],
        "is_inherited": bool(row["is_inherited"]),
        "rejection_reason": row["rejection_reason"],
        "creation_source": row["creation_source"],
        "whatsapp_template_id": row["whatsapp_template_id"],
        "definition": row["definition"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
