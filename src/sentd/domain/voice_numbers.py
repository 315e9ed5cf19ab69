"""What changing a voice number takes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class VoiceNumberChanges:
    """A partial update. `given` names the fields the caller set: `status` (ACTIVE or
    INACTIVE), `default_for_app_calls` (only true is accepted), `callback_url` (already
    normalised; `None` given removes it). A field not in `given` stays as it is."""

    status: str | None = None
    default_for_app_calls: bool | None = None
    callback_url: str | None = None
    given: frozenset[str] = field(default_factory=frozenset)
