"""The `{{index:name}}` placeholder syntax of template text.

A text is a sequence of literal runs and placeholders. A placeholder is `{{`, an index (a
non-negative integer without leading zeros, at most nine digits), `:`, a name (an ASCII letter,
then ASCII letters, digits or underscores) and `}}`. Anything else that opens with `{{` or closes
with `}}` is malformed: a literal run may hold single braces but never a doubled one. So, for every
text, `parse` either raises `PlaceholderError` or returns segments that `format` turns back into
exactly that text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"\{\{(0|[1-9][0-9]{0,8}):([A-Za-z][A-Za-z0-9_]*)\}\}")
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
EXAMPLE = "{{0:first_name}}"


@dataclass(frozen=True, slots=True)
class Placeholder:
    index: int
    name: str

    def __str__(self) -> str:
        return "{{" + f"{self.index}:{self.name}" + "}}"


Segment = str | Placeholder


class PlaceholderError(ValueError):
    """A malformed placeholder; `position` is the offset of the offending `{{` or `}}`."""

    def __init__(self, position: int, message: str) -> None:
        super().__init__(message)
        self.position = position
        self.message = message


def parse(text: str) -> list[Segment]:
    """Split `text` into literal runs and placeholders (no two runs in a row, none empty)."""
    segments: list[Segment] = []
    position = 0
    for match in PLACEHOLDER.finditer(text):
        _add_literal(text, position, match.start(), segments)
        segments.append(Placeholder(int(match.group(1)), match.group(2)))
        position = match.end()
    _add_literal(text, position, len(text), segments)
    return segments


def _add_literal(text: str, start: int, end: int, segments: list[Segment]) -> None:
    if start == end:
        return
    chunk = text[start:end]
    opening, closing = chunk.find("{{"), chunk.find("}}")
    if opening >= 0 and (closing < 0 or opening < closing):
        raise PlaceholderError(
            start + opening,
            f"Malformed placeholder at character {start + opening}: write variables as "
            f"{{{{index:name}}}}, for example {EXAMPLE}",
        )
    if closing >= 0:
        raise PlaceholderError(
            start + closing,
            f"Unmatched '}}}}' at character {start + closing}: write variables as "
            f"{{{{index:name}}}}, for example {EXAMPLE}",
        )
    segments.append(chunk)


def format_segments(segments: Iterable[Segment]) -> str:
    """The text of `segments`: the inverse of `parse`."""
    return "".join(str(segment) for segment in segments)


def placeholders(segments: Iterable[Segment]) -> list[Placeholder]:
    return [s for s in segments if isinstance(s, Placeholder)]


def literal_text(segments: Sequence[Segment], replacement: str = " ") -> str:
    """The text with every placeholder replaced by `replacement`."""
    return "".join(s if isinstance(s, str) else replacement for s in segments)


def substitute(segments: Iterable[Segment], value_of: Callable[[Placeholder], str]) -> str:
    """The text with every placeholder replaced by `value_of(placeholder)`."""
    return "".join(s if isinstance(s, str) else value_of(s) for s in segments)
