"""Message templates without the web or the database: the definition model and its validation,
the `{{index:name}}` placeholder parser, rendering, and what is inferred from content."""

from sentd.templating.content import derive_name, detect_category
from sentd.templating.definition import (
    CHANNELS,
    Definition,
    DefinitionError,
    check_category,
    parse_definition,
)
from sentd.templating.placeholders import Placeholder, PlaceholderError, format_segments, parse
from sentd.templating.render import (
    MissingParameters,
    NoBodyForChannel,
    Rendered,
    render_body,
    render_message,
    render_text,
)

__all__ = [
    "CHANNELS",
    "Definition",
    "DefinitionError",
    "MissingParameters",
    "NoBodyForChannel",
    "Placeholder",
    "PlaceholderError",
    "Rendered",
    "check_category",
    "derive_name",
    "detect_category",
    "format_segments",
    "parse",
    "parse_definition",
    "render_body",
    "render_message",
    "render_text",
]
