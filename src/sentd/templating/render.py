"""Rendering: a definition's sections for one channel, with the send's parameters substituted.

A parameter is looked up by the placeholder's name (`{"first_name": "Ada"}`), and failing that
by its index (`{"0": "Ada"}`). Every missing parameter is reported at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sentd.templating.definition import Definition, MmsBody, Text
from sentd.templating.placeholders import Placeholder, Segment, substitute


class MissingParameters(LookupError):
    """Placeholders without a value; `missing` maps each name to its placeholder text."""

    def __init__(self, missing: dict[str, str]) -> None:
        super().__init__(f"missing template parameters: {', '.join(missing)}")
        self.missing = missing


class NoBodyForChannel(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class RenderedButton:
    type: str
    text: str
    value: str | None  # the URL (variables filled in), phone number or offer code


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message's content: the body, and what the channel shows besides it."""

    channel: str
    content: str
    header: str | None = None
    header_media: dict[str, str] | None = None  # {"type": "image", "url": …}
    footer: str | None = None
    subject: str | None = None
    media: list[dict[str, Any]] = field(default_factory=list)
    buttons: list[RenderedButton] = field(default_factory=list)


def _value(parameters: Mapping[str, str], placeholder: Placeholder) -> str | None:
    if placeholder.name in parameters:
        return str(parameters[placeholder.name])
    return str(parameters[str(placeholder.index)]) if str(placeholder.index) in parameters else None


def _fill(
    segments: Sequence[Segment], parameters: Mapping[str, str], missing: dict[str, str]
) -> str:
    def value_of(placeholder: Placeholder) -> str:
        value = _value(parameters, placeholder)
        if value is None:
            missing.setdefault(placeholder.name, str(placeholder))
            return ""
        return value

    return substitute(segments, value_of)


def render_text(text: Text, parameters: Mapping[str, str]) -> str:
    """`text` with its placeholders filled in; MissingParameters when any has no value."""
    missing: dict[str, str] = {}
    result = _fill(text.segments, parameters, missing)
    if missing:
        raise MissingParameters(missing)
    return result


def render_body(definition: Definition, channel: str, parameters: Mapping[str, str]) -> str:
    body = definition.body_for(channel)
    if body is None:
        raise NoBodyForChannel(channel)
    return render_text(body.text, parameters)


def render_message(definition: Definition, channel: str, parameters: Mapping[str, str]) -> Rendered:
    """Body, header, footer and buttons for `channel`. SMS carries the body only; MMS adds its
    subject and attachments; WhatsApp and RCS add the header, footer and buttons."""
    body = definition.body_for(channel)
    if body is None:
        raise NoBodyForChannel(channel)
    missing: dict[str, str] = {}
    content = _fill(body.text.segments, parameters, missing)
    rendered = Rendered(channel=channel, content=content)
    if channel == "mms":
        mms = body if isinstance(body, MmsBody) else None  # or the body it falls back to
        rendered = Rendered(
            channel=channel,
            content=content,
            subject=mms.subject if mms else None,
            media=[m.to_wire() for m in mms.media] if mms else [],
        )
    elif channel in ("whatsapp", "rcs"):
        header = header_media = footer = None
        if definition.header is not None:
            h = definition.header
            if h.type == "text":
                header = _fill(h.text.segments, parameters, missing)
            elif h.type != "location":
                url = _fill(h.text.segments, parameters, missing) if h.text.segments else ""
                header_media = {"type": h.type, "url": url or (h.example_url or "")}
        if definition.footer is not None:
            footer = _fill(definition.footer.segments, parameters, missing)
        buttons = []
        for button in definition.buttons:
            value: str | None
            if button.type == "URL":
                value = _fill(button.url_segments, parameters, missing)
            elif button.type in ("PHONE_NUMBER", "VOICE_CALL"):
                value = button.props.get("phoneNumber")
            elif button.type == "COPY_CODE":
                value = button.props.get("offerCode")
            else:
                value = None
            buttons.append(RenderedButton(button.type, button.text, value))
        rendered = Rendered(
            channel=channel,
            content=content,
            header=header,
            header_media=header_media,
            footer=footer,
            buttons=buttons,
        )
    if missing:
        raise MissingParameters(missing)
    return rendered
