"""What creating or changing a template takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_LANGUAGE = "en_US"


@dataclass(frozen=True, slots=True)
class TemplateInput:
    """A new template. `definition` is the wire (camelCase) definition, validated in full by the
    service; `None` elsewhere means "not given" (defaults apply)."""

    definition: dict[str, Any]
    category: str | None = None
    language: str | None = None
    name: str | None = None
    submit_for_review: bool = False
    auto_create_for_sp: bool = False
    creation_source: str | None = None


@dataclass(frozen=True, slots=True)
class TemplateChanges:
    """A partial update: `None` leaves a field as it is."""

    name: str | None = None
    category: str | None = None
    language: str | None = None
    definition: dict[str, Any] | None = None
    submit_for_review: bool = False
