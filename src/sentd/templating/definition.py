"""The template definition: the camelCase model of `definition` in `POST/PUT /v3/templates`,
parsed from JSON and validated in full.

`parse_definition(raw)` returns a `Definition` or raises `DefinitionError` whose `issues` map
each offending path (`definition.body.multiChannel.template`, `definition.buttons[0].props.text`)
to its messages. Unknown keys are dropped; `null` counts as absent. `Definition.to_wire()` is the
normalised form that is stored and read back, and parses again to the same `Definition`.

The rules (see docs/templates.md):

* body: either `multiChannel` alone or an `sms` + `whatsapp` pair; `rcs` and `mms` only override
  one of those. Bodies hold at most 1024 characters (`rcs` 3072), and follow Meta's rules for
  variables: a letter before the first variable and after the last, no two variables with only
  whitespace between them, at least 2 × variables + 1 words, no leading or trailing line break,
  at most two line breaks and four spaces in a row;
* variables: `{{index:name}}` placeholders, each matching one declared variable of its section (same
  id and name); every declared variable is used; ids and names unique within a section. A body,
  header or footer that declares no `variables` (absent, null or empty) gets one per placeholder
  (`{{0:name}}` → id 0, name `name`, type `variable`, its name as the sample);
* header: `text` (≤ 60 characters, ≤ 1 variable, one line), a media type (`image`, `video`, `gif`,
  `document`; needs an https `example_url`) or `location` (needs `location`);
* footer: ≤ 60 characters on one line;
* buttons: at most 10 with unique ids; a label of 1–25 characters without variables, line breaks,
  emoji or formatting marks (`*`, `_`, `~`); per type: `URL` needs an http(s) `url` (a `dynamic`
  one ends with its one variable), `PHONE_NUMBER` an E.164 `phoneNumber`; at most 2 `URL`,
  1 `PHONE_NUMBER` and 1 `COPY_CODE` buttons;
* `authenticationConfig.codeExpirationMinutes`: 1–90.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sentd.templating.placeholders import (
    NAME,
    Placeholder,
    PlaceholderError,
    Segment,
    literal_text,
    parse,
    placeholders,
)

ROOT = "definition"
CHANNELS = ("sms", "whatsapp", "rcs", "mms")
BODY_KEYS = ("multiChannel", "sms", "whatsapp", "rcs", "mms")
# Which body each channel renders, first present wins (the send-time fallback chains).
BODY_FOR_CHANNEL: dict[str, tuple[str, ...]] = {
    "sms": ("sms", "multiChannel"),
    "whatsapp": ("whatsapp", "multiChannel"),
    "rcs": ("rcs", "multiChannel", "sms"),
    "mms": ("mms", "multiChannel", "sms"),
}
MAX_BODY = 1024
MAX_RCS_BODY = 3072
MAX_HEADER_TEXT = 60
MAX_FOOTER = 60
MAX_BUTTONS = 10
MAX_BUTTON_TEXT = 25
MAX_BUTTONS_OF_TYPE = {"URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1}
MAX_URL_VARIABLES = 1
MAX_URL = 2000
MAX_OFFER_CODE = 15
MAX_VARIABLE_NAME = 64
MAX_VARIABLE_ID = 999
MAX_MMS_MEDIA = 10
VARIABLE_TYPES = ("variable", "link", "media")
HEADER_TYPES = ("text", "image", "video", "gif", "document", "location")
MEDIA_HEADER_TYPES = ("image", "video", "gif", "document")
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "VOICE_CALL", "COPY_CODE")
URL_TYPES = ("static", "dynamic")
FORMATTING_MARKS = ("*", "_", "~")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")

REQUIRED = "This field is required"


class DefinitionError(ValueError):
    def __init__(self, issues: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{path}: {', '.join(m)}" for path, m in issues.items()))
        self.issues = issues


# -- the model ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Variable:
    id: int
    name: str
    type: str
    props: dict[str, str]  # camelCase keys: sample, url, mediaType, variableType, alt, regex, …

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "type": self.type, "props": dict(self.props)}


@dataclass(frozen=True, slots=True)
class Text:
    """A text with placeholders and the variables they refer to: a body, header or footer."""

    template: str
    segments: tuple[Segment, ...]
    variables: tuple[Variable, ...]
    type: str | None = None

    @property
    def placeholders(self) -> list[Placeholder]:
        return placeholders(self.segments)

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"template": self.template}
        if self.type is not None:
            wire["type"] = self.type
        if self.variables:
            wire["variables"] = [v.to_wire() for v in self.variables]
        return wire


@dataclass(frozen=True, slots=True)
class MmsMedia:
    url: str
    media_type: str | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"url": self.url}
        if self.media_type is not None:
            wire["mediaType"] = self.media_type
        return wire


@dataclass(frozen=True, slots=True)
class Body:
    text: Text
    subject: str | None = None  # mms only
    media: tuple[MmsMedia, ...] = ()  # mms only

    def to_wire(self) -> dict[str, Any]:
        wire = self.text.to_wire()
        if self.subject is not None:
            wire["subject"] = self.subject
        if self.media:
            wire["media"] = [m.to_wire() for m in self.media]
        return wire


@dataclass(frozen=True, slots=True)
class Location:
    name: str
    address: str
    latitude: str
    longitude: str

    def to_wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": self.address,
            "latitude": self.latitude,
            "longitude": self.longitude,
        }


@dataclass(frozen=True, slots=True)
class Header:
    type: str
    text: Text
    example_url: str | None = None
    static_resource: bool = False
    location: Location | None = None

    def to_wire(self) -> dict[str, Any]:
        wire = self.text.to_wire()
        wire["type"] = self.type
        if self.example_url is not None:
            wire["example_url"] = self.example_url
        if self.static_resource:
            wire["static_resource"] = True
        if self.location is not None:
            wire["location"] = self.location.to_wire()
        return wire


@dataclass(frozen=True, slots=True)
class Button:
    id: int
    type: str
    text: str
    props: dict[str, Any]  # the other props, camelCase, as given
    variables: tuple[Variable, ...] = ()
    url_segments: tuple[Segment, ...] = ()

    @property
    def url(self) -> str | None:
        value = self.props.get("url")
        return value if isinstance(value, str) else None

    def to_wire(self) -> dict[str, Any]:
        props: dict[str, Any] = {"text": self.text, **self.props}
        props["variables"] = [v.to_wire() for v in self.variables]
        return {"id": self.id, "type": self.type, "props": props}


@dataclass(frozen=True, slots=True)
class AuthenticationConfig:
    add_security_recommendation: bool | None = None
    code_expiration_minutes: int | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        if self.add_security_recommendation is not None:
            wire["addSecurityRecommendation"] = self.add_security_recommendation
        if self.code_expiration_minutes is not None:
            wire["codeExpirationMinutes"] = self.code_expiration_minutes
        return wire


@dataclass(frozen=True, slots=True)
class Definition:
    body: dict[str, Body]  # keyed by BODY_KEYS, only those present
    header: Header | None = None
    footer: Text | None = None
    buttons: tuple[Button, ...] = ()
    authentication_config: AuthenticationConfig | None = None
    definition_version: str | None = None

    def body_for(self, channel: str) -> Body | None:
        """The body `channel` renders (its fallback chain), or None when it renders none."""
        for key in BODY_FOR_CHANNEL[channel]:
            if key in self.body:
                return self.body[key]
        return None

    @property
    def channels(self) -> list[str]:
        """The channels with a body, in canonical order: sms, whatsapp, rcs, mms."""
        return [c for c in CHANNELS if self.body_for(c) is not None]

    @property
    def main_body(self) -> Body:
        """The body that best represents the template (for names and category detection)."""
        for key in ("multiChannel", "whatsapp", "sms", "rcs", "mms"):
            if key in self.body:
                return self.body[key]
        raise LookupError("a definition always has a body")

    def texts(self) -> Iterator[tuple[str, Text]]:
        """Every text section, with its path: header, bodies, footer."""
        if self.header is not None:
            yield f"{ROOT}.header", self.header.text
        for key in BODY_KEYS:
            if key in self.body:
                yield f"{ROOT}.body.{key}", self.body[key].text
        if self.footer is not None:
            yield f"{ROOT}.footer", self.footer

    @property
    def variables(self) -> list[str]:
        """Every variable name, once, in order: header, bodies, footer, buttons."""
        names: list[str] = []
        sections = [text.variables for _, text in self.texts()]
        sections += [button.variables for button in self.buttons]
        for variables in sections:
            for variable in variables:
                if variable.name not in names:
                    names.append(variable.name)
        return names

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "body": {key: self.body[key].to_wire() for key in BODY_KEYS if key in self.body}
        }
        if self.header is not None:
            wire["header"] = self.header.to_wire()
        if self.footer is not None:
            wire["footer"] = self.footer.to_wire()
        if self.buttons:
            wire["buttons"] = [b.to_wire() for b in self.buttons]
        if self.authentication_config is not None:
            wire["authenticationConfig"] = self.authentication_config.to_wire()
        if self.definition_version is not None:
            wire["definitionVersion"] = self.definition_version
        return wire


# -- reading JSON -------------------------------------------------------------------------


@dataclass
class _Reader:
    """Collects every issue instead of stopping at the first."""

    issues: dict[str, list[str]] = field(default_factory=dict)

    def add(self, path: str, message: str) -> None:
        self.issues.setdefault(path, []).append(message)

    def obj(self, value: Any, path: str) -> Mapping[str, Any] | None:
        if isinstance(value, Mapping):
            return value
        self.add(path, "Must be an object")
        return None

    def string(
        self, parent: Mapping[str, Any], key: str, path: str, *, required: bool = False
    ) -> str | None:
        value = parent.get(key)
        if value is None:
            if required:
                self.add(f"{path}.{key}", REQUIRED)
            return None
        if not isinstance(value, str):
            self.add(f"{path}.{key}", "Must be a string")
            return None
        return value

    def boolean(self, parent: Mapping[str, Any], key: str, path: str) -> bool | None:
        value = parent.get(key)
        if value is None or isinstance(value, bool):
            return value
        self.add(f"{path}.{key}", "Must be true or false")
        return None

    def integer(
        self, parent: Mapping[str, Any], key: str, path: str, low: int, high: int
    ) -> int | None:
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(f"{path}.{key}", "Must be an integer")
            return None
        if not low <= value <= high:
            self.add(f"{path}.{key}", f"Must be between {low} and {high}")
            return None
        return value

    def array(self, parent: Mapping[str, Any], key: str, path: str) -> list[Any]:
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(f"{path}.{key}", "Must be an array")
            return []
        return value

    def choice(
        self,
        parent: Mapping[str, Any],
        key: str,
        path: str,
        choices: tuple[str, ...],
        *,
        required: bool = False,
    ) -> str | None:
        value = self.string(parent, key, path, required=required)
        if value is not None and value not in choices:
            self.add(f"{path}.{key}", f"Must be one of: {', '.join(choices)}")
            return None
        return value


def parse_definition(raw: Any) -> Definition:
    """The definition in `raw` (decoded JSON), or DefinitionError naming every problem."""
    reader = _Reader()
    definition = _definition(reader, raw)
    if reader.issues or definition is None:
        raise DefinitionError(reader.issues or {ROOT: ["Invalid definition"]})
    return definition


def _definition(r: _Reader, raw: Any) -> Definition | None:
    top = r.obj(raw, ROOT)
    if top is None:
        return None
    body = _body(r, top.get("body"))
    header = _header(r, top["header"]) if top.get("header") is not None else None
    footer = _footer(r, top["footer"]) if top.get("footer") is not None else None
    buttons = _buttons(r, r.array(top, "buttons", ROOT))
    auth = None
    if top.get("authenticationConfig") is not None:
        auth = _authentication(r, top["authenticationConfig"])
    version = r.string(top, "definitionVersion", ROOT)
    if version is not None and not 1 <= len(version) <= 20:
        r.add(f"{ROOT}.definitionVersion", "Use 1 to 20 characters, e.g. 1.0")
    if body is None:
        return None
    return Definition(body, header, footer, buttons, auth, version)


def _body(r: _Reader, raw: Any) -> dict[str, Body] | None:
    path = f"{ROOT}.body"
    if raw is None:
        r.add(path, REQUIRED)
        return None
    obj = r.obj(raw, path)
    if obj is None:
        return None
    present = [key for key in BODY_KEYS if obj.get(key) is not None]
    shared, sms, whatsapp = "multiChannel" in present, "sms" in present, "whatsapp" in present
    if shared and (sms or whatsapp):
        r.add(path, "Use either a multiChannel body or an sms + whatsapp pair, not both")
    elif not shared and sms != whatsapp:
        r.add(path, "An sms body needs a whatsapp body beside it, and the other way round")
    elif not shared and not sms:
        r.add(
            path,
            "Give a multiChannel body, or an sms + whatsapp pair (rcs and mms only "
            "override one of those)",
        )
    bodies: dict[str, Body] = {}
    for key in present:
        limit = MAX_RCS_BODY if key == "rcs" else MAX_BODY
        body = _body_content(r, obj[key], f"{path}.{key}", limit, mms=key == "mms")
        if body is not None:
            bodies[key] = body
    return bodies


def _body_content(r: _Reader, raw: Any, path: str, limit: int, *, mms: bool) -> Body | None:
    obj = r.obj(raw, path)
    if obj is None:
        return None
    text = _text(r, obj, path, max_length=limit, types=("text",))
    subject: str | None = None
    media: list[MmsMedia] = []
    if mms:
        subject = r.string(obj, "subject", path)
        if subject is not None and len(subject) > 80:
            r.add(f"{path}.subject", "Use at most 80 characters")
        items = r.array(obj, "media", path)
        if len(items) > MAX_MMS_MEDIA:
            r.add(f"{path}.media", f"At most {MAX_MMS_MEDIA} attachments")
        for i, item in enumerate(items):
            entry = _mms_media(r, item, f"{path}.media[{i}]")
            if entry is not None:
                media.append(entry)
    if text is None:
        return None
    _body_rules(r, text, f"{path}.template")
    return Body(text, subject, tuple(media))


def _mms_media(r: _Reader, raw: Any, path: str) -> MmsMedia | None:
    obj = r.obj(raw, path)
    if obj is None:
        return None
    url = r.string(obj, "url", path, required=True)
    media_type = r.string(obj, "mediaType", path)
    if url is not None and not _is_url(url, https_only=True):
        r.add(f"{path}.url", "Use a public https:// URL")
        return None
    return MmsMedia(url, media_type) if url is not None else None


def _text(
    r: _Reader,
    obj: Mapping[str, Any],
    path: str,
    *,
    max_length: int,
    types: tuple[str, ...] | None,
    allow_empty: bool = False,
) -> Text | None:
    """A section's `template`, `type` and `variables`, with the placeholder rules."""
    template = r.string(obj, "template", path, required=True)
    kind = r.choice(obj, "type", path, types) if types is not None else None
    variables = _variables(r, r.array(obj, "variables", path), f"{path}.variables")
    if template is None:
        return None
    if not allow_empty and not template.strip():
        r.add(f"{path}.template", "Must not be empty")
        return None
    if len(template) > max_length:
        r.add(f"{path}.template", f"Use at most {max_length} characters ({len(template)} given)")
    segments = _segments(r, template, f"{path}.template")
    if segments is None:
        return None
    if not obj.get("variables"):
        variables = _inferred_variables(r, segments, f"{path}.template")
    _match_variables(r, segments, variables, f"{path}.template", f"{path}.variables")
    return Text(template, tuple(segments), tuple(variables), kind)


def _inferred_variables(r: _Reader, segments: list[Segment], path: str) -> list[Variable]:
    """The variables of a section that declares none: one per distinct placeholder, in order of
    first use. Two placeholders that give one id two names (or one name two ids) are an issue;
    `_match_variables` then reports the placeholders left without a variable."""
    by_id: dict[int, Variable] = {}
    ids_of_name: dict[str, int] = {}
    for placeholder in placeholders(segments):
        index, name = placeholder.index, placeholder.name
        known = by_id.get(index)
        if known is not None:
            if known.name != name:
                r.add(path, f"{placeholder} gives variable {index} a second name ({known.name!r})")
            continue
        if ids_of_name.get(name, index) != index:
            r.add(path, f"{placeholder} reuses the name {name!r} of variable {ids_of_name[name]}")
            continue
        if index > MAX_VARIABLE_ID:
            r.add(path, f"{placeholder}: variable ids go up to {MAX_VARIABLE_ID}")
            continue
        if len(name) > MAX_VARIABLE_NAME:
            r.add(path, f"{placeholder}: use at most {MAX_VARIABLE_NAME} characters for a name")
            continue
        by_id[index] = Variable(index, name, "variable", {"sample": name})
        ids_of_name[name] = index
    return list(by_id.values())


def _segments(r: _Reader, template: str, path: str) -> list[Segment] | None:
    try:
        return parse(template)
    except PlaceholderError as exc:
        r.add(path, exc.message)
        return None


def _match_variables(
    r: _Reader,
    segments: list[Segment],
    variables: list[Variable],
    text_path: str,
    variables_path: str,
) -> None:
    """Every placeholder names a declared variable (same id and name); every variable is used."""
    by_id = {v.id: v for v in variables}
    used: set[int] = set()
    for placeholder in placeholders(segments):
        variable = by_id.get(placeholder.index)
        if variable is None:
            r.add(text_path, f"{placeholder} has no variable with id {placeholder.index}")
        elif variable.name != placeholder.name:
            r.add(
                text_path,
                f"{placeholder} names variable {placeholder.index} {placeholder.name!r}, "
                f"but it is declared as {variable.name!r}",
            )
        else:
            used.add(placeholder.index)
    for i, variable in enumerate(variables):
        if variable.id not in used:
            r.add(
                f"{variables_path}[{i}]",
                f"Variable {variable.id} ({variable.name}) is not used",
            )


def _variables(r: _Reader, items: list[Any], path: str) -> list[Variable]:
    variables: list[Variable] = []
    seen_ids: set[int] = set()
    seen_names: set[str] = set()
    for i, item in enumerate(items):
        variable = _variable(r, item, f"{path}[{i}]")
        if variable is None:
            continue
        if variable.id in seen_ids:
            r.add(f"{path}[{i}].id", f"Variables must have unique ids ({variable.id} repeats)")
            continue
        if variable.name in seen_names:
            r.add(f"{path}[{i}].name", f"Variables must have unique names ({variable.name!r})")
            continue
        seen_ids.add(variable.id)
        seen_names.add(variable.name)
        variables.append(variable)
    return variables


_PROPS = ("sample", "url", "mediaType", "variableType", "alt", "regex", "shortUrl")


def _variable(r: _Reader, raw: Any, path: str) -> Variable | None:
    obj = r.obj(raw, path)
    if obj is None:
        return None
    problems = len(r.issues)
    var_id = r.integer(obj, "id", path, 0, MAX_VARIABLE_ID)
    name = r.string(obj, "name", path, required=True)
    if name is not None and not (NAME.fullmatch(name) and len(name) <= MAX_VARIABLE_NAME):
        r.add(
            f"{path}.name",
            f"Start with a letter and use only letters, digits and underscores "
            f"(at most {MAX_VARIABLE_NAME})",
        )
    kind = r.choice(obj, "type", path, VARIABLE_TYPES, required=True)
    props: dict[str, str] = {}
    raw_props = obj.get("props")
    if raw_props is None:
        r.add(f"{path}.props", REQUIRED)
    elif (props_obj := r.obj(raw_props, f"{path}.props")) is not None:
        for key in _PROPS:
            value = props_obj.get(key)
            if key == "sample" and isinstance(value, bool):
                value = "true" if value else "false"
            elif key == "sample" and isinstance(value, int | float):
                value = str(value) if math.isfinite(value) else None
            if value is None:
                continue
            if not isinstance(value, str):
                r.add(f"{path}.props.{key}", "Must be a string")
                continue
            props[key] = value
        if not props.get("sample", "").strip():
            r.add(f"{path}.props.sample", "Give an example value (used for previews and review)")
        if kind in ("link", "media") and not _is_url(props.get("url", ""), https_only=False):
            r.add(f"{path}.props.url", f"A {kind} variable needs an http(s) url")
        if kind == "media" and not props.get("mediaType"):
            r.add(f"{path}.props.mediaType", "A media variable needs its mediaType")
    if len(r.issues) > problems or name is None or kind is None:
        return None
    return Variable(var_id or 0, name, kind, props)


_LETTER = re.compile(r"[^\W\d_]")


def _has_letter(text: str) -> bool:
    return _LETTER.search(text) is not None


def _body_rules(r: _Reader, text: Text, path: str) -> None:
    """Meta's rules for a body's shape and the context around its variables."""
    template = text.template.replace("\r\n", "\n")
    if template.startswith("\n") or template.endswith("\n"):
        r.add(path, "Must not start or end with a line break")
    if "\n\n\n" in template:
        r.add(path, "At most two line breaks in a row")
    if "     " in template:
        r.add(path, "At most four spaces in a row")
    segments = text.segments
    count = len(text.placeholders)
    if count == 0:
        return
    first, last = segments[0], segments[-1]
    if not (isinstance(first, str) and _has_letter(first)):
        r.add(path, "Put some words before the first variable")
    if not (isinstance(last, str) and _has_letter(last)):
        r.add(path, "Put some words after the last variable")
    previous: Placeholder | None = None
    gap = ""
    for segment in segments:
        if isinstance(segment, str):
            gap = segment
            continue
        if previous is not None and not gap.strip():
            r.add(
                path,
                f"Variables {previous} and {segment} are next to each other; put words between",
            )
        previous, gap = segment, ""
    words = [w for w in literal_text(segments).split() if any(c.isalnum() for c in w)]
    if len(words) < 2 * count + 1:
        r.add(
            path,
            f"With {count} variable(s) the text needs at least {2 * count + 1} words besides "
            f"them ({len(words)} given)",
        )


def _header(r: _Reader, raw: Any) -> Header | None:
    path = f"{ROOT}.header"
    obj = r.obj(raw, path)
    if obj is None:
        return None
    kind = r.choice(obj, "type", path, HEADER_TYPES) or "text"
    is_text = kind == "text"
    text = _text(
        r,
        obj,
        path,
        max_length=MAX_HEADER_TEXT if is_text else 2000,
        types=None,
        allow_empty=not is_text,
    )
    example_url = r.string(obj, "example_url", path)
    static_resource = r.boolean(obj, "static_resource", path) or False
    location = None
    if is_text and text is not None:
        if len(text.placeholders) > 1:
            r.add(f"{path}.template", "A text header holds at most one variable")
        if "\n" in text.template or "\r" in text.template:
            r.add(f"{path}.template", "A header is one line")
    if kind in MEDIA_HEADER_TYPES and not _is_url(example_url or "", https_only=True):
        r.add(f"{path}.example_url", f"The {kind} header needs an https example_url (its sample)")
    if kind == "location":
        location = _location(r, obj.get("location"), f"{path}.location")
    if text is None:
        return None
    return Header(kind, text, example_url, static_resource, location)


def _location(r: _Reader, raw: Any, path: str) -> Location | None:
    if raw is None:
        r.add(path, "A location header needs its location")
        return None
    obj = r.obj(raw, path)
    if obj is None:
        return None
    values = {
        key: r.string(obj, key, path, required=True)
        for key in ("name", "address", "latitude", "longitude")
    }
    for key, bound in (("latitude", 90.0), ("longitude", 180.0)):
        value = values[key]
        if value is None:
            continue
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and -bound <= number <= bound):
            r.add(f"{path}.{key}", f"Must be a number between {-bound:g} and {bound:g}")
    name, address, latitude, longitude = values.values()
    if name is None or address is None or latitude is None or longitude is None:
        return None
    return Location(name, address, latitude, longitude)


def _footer(r: _Reader, raw: Any) -> Text | None:
    path = f"{ROOT}.footer"
    obj = r.obj(raw, path)
    if obj is None:
        return None
    text = _text(r, obj, path, max_length=MAX_FOOTER, types=("text",))
    if text is not None and ("\n" in text.template or "\r" in text.template):
        r.add(f"{path}.template", "A footer is one line")
    return text


_BUTTON_PROPS_STR = (
    "url",
    "urlType",
    "phoneNumber",
    "countryCode",
    "offerCode",
    "quickReplyType",
    "autofillText",
    "otpType",
    "packageName",
    "signatureHash",
)


def _buttons(r: _Reader, items: list[Any]) -> tuple[Button, ...]:
    path = f"{ROOT}.buttons"
    if len(items) > MAX_BUTTONS:
        r.add(path, f"At most {MAX_BUTTONS} buttons")
    buttons: list[Button] = []
    seen: set[int] = set()
    per_type: dict[str, int] = {}
    for i, item in enumerate(items):
        button = _button(r, item, f"{path}[{i}]")
        if button is None:
            continue
        if button.id in seen:
            r.add(f"{path}[{i}].id", f"Button ids must be unique ({button.id} repeats)")
            continue
        seen.add(button.id)
        per_type[button.type] = per_type.get(button.type, 0) + 1
        buttons.append(button)
    for kind, most in MAX_BUTTONS_OF_TYPE.items():
        if per_type.get(kind, 0) > most:
            r.add(path, f"At most {most} {kind} button(s)")
    return tuple(buttons)


def _button(r: _Reader, raw: Any, path: str) -> Button | None:
    obj = r.obj(raw, path)
    if obj is None:
        return None
    problems = len(r.issues)
    button_id = r.integer(obj, "id", path, 0, 99) or 0
    kind = r.choice(obj, "type", path, BUTTON_TYPES, required=True)
    raw_props = obj.get("props")
    if raw_props is None:
        r.add(f"{path}.props", REQUIRED)
        return None
    props_obj = r.obj(raw_props, f"{path}.props")
    if props_obj is None or kind is None:
        return None
    ppath = f"{path}.props"
    label = r.string(props_obj, "text", ppath, required=True)
    if label is not None:
        _label_rules(r, label, f"{ppath}.text")
    props: dict[str, Any] = {}
    for key in _BUTTON_PROPS_STR:
        value = r.string(props_obj, key, ppath)
        if value is not None:
            props[key] = value
    active_for = r.integer(props_obj, "activeFor", ppath, 0, 1_000_000)
    if active_for is not None:
        props["activeFor"] = active_for
    variables = _variables(r, r.array(props_obj, "variables", ppath), f"{ppath}.variables")
    url_segments: list[Segment] = []
    if kind == "URL":
        url_segments = _url_button(r, props, variables, ppath)
    elif kind == "PHONE_NUMBER":
        phone = props.get("phoneNumber")
        if phone is None:
            r.add(f"{ppath}.phoneNumber", REQUIRED)
        elif not E164.fullmatch(phone):
            r.add(f"{ppath}.phoneNumber", "Use an E.164 number, e.g. +14155550100")
    elif variables:
        r.add(f"{ppath}.variables", f"A {kind} button holds no variables")
    offer = props.get("offerCode")
    if kind == "COPY_CODE" and offer is not None and len(offer) > MAX_OFFER_CODE:
        r.add(f"{ppath}.offerCode", f"Use at most {MAX_OFFER_CODE} characters")
    if len(r.issues) > problems or label is None:
        return None
    return Button(button_id, kind, label, props, tuple(variables), tuple(url_segments))


def _url_button(
    r: _Reader, props: dict[str, Any], variables: list[Variable], ppath: str
) -> list[Segment]:
    url = props.get("url")
    if url is None:
        r.add(f"{ppath}.url", REQUIRED)
        return []
    url_type = props.get("urlType")
    if url_type is not None and url_type not in URL_TYPES:
        r.add(f"{ppath}.urlType", f"Must be one of: {', '.join(URL_TYPES)}")
        return []
    segments = _segments(r, url, f"{ppath}.url")
    if segments is None:
        return []
    found = placeholders(segments)
    if len(url) > MAX_URL:
        r.add(f"{ppath}.url", f"Use at most {MAX_URL} characters")
    if not _is_url(literal_text(segments, "x"), https_only=False):
        r.add(f"{ppath}.url", "Use an absolute http:// or https:// URL")
        return []
    if not found:
        if url_type == "dynamic":
            r.add(
                f"{ppath}.url",
                "A dynamic URL ends with its variable, e.g. "
                "https://shop.test/orders/{{0:order_id}}",
            )
        if variables:
            r.add(f"{ppath}.variables", "A static URL button holds no variables")
        return segments
    if url_type == "static":
        r.add(f"{ppath}.url", "A static URL holds no variables (set urlType to dynamic)")
    elif len(found) > MAX_URL_VARIABLES or not isinstance(segments[-1], Placeholder):
        r.add(f"{ppath}.url", "A dynamic URL holds one variable, at its very end")
    else:
        _match_variables(r, segments, variables, f"{ppath}.url", f"{ppath}.variables")
    return segments


def _label_rules(r: _Reader, label: str, path: str) -> None:
    if not label.strip():
        r.add(path, "Must not be empty")
    elif len(label) > MAX_BUTTON_TEXT:
        r.add(path, f"Use at most {MAX_BUTTON_TEXT} characters")
    if (
        "{{" in label
        or "\n" in label
        or "\r" in label
        or any(mark in label for mark in FORMATTING_MARKS)
        or any(is_emoji(c) for c in label)
    ):
        r.add(path, "Buttons can't have variables, line breaks, emoji or formatting marks")


def is_emoji(char: str) -> bool:
    """Pictographs, emoji symbols and their modifiers (a code-point range check)."""
    code = ord(char)
    return (
        0x1F000 <= code <= 0x1FAFF  # emoji, pictographs, flags, symbols and pictographs ext.
        or 0x2600 <= code <= 0x27BF  # miscellaneous symbols, dingbats
        or 0x2B00 <= code <= 0x2BFF  # arrows and stars such as ⭐
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or code == 0x200D  # zero-width joiner
    )


def _authentication(r: _Reader, raw: Any) -> AuthenticationConfig | None:
    path = f"{ROOT}.authenticationConfig"
    obj = r.obj(raw, path)
    if obj is None:
        return None
    add = r.boolean(obj, "addSecurityRecommendation", path)
    minutes = r.integer(obj, "codeExpirationMinutes", path, 1, 90)
    return AuthenticationConfig(add, minutes)


def _is_url(value: str, *, https_only: bool) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    schemes = ("https",) if https_only else ("http", "https")
    return parts.scheme in schemes and bool(parts.hostname) and " " not in value


def check_category(definition: Definition, category: str) -> dict[str, list[str]]:
    """Rules that tie the definition to its category (empty when it fits)."""
    issues: dict[str, list[str]] = {}
    if definition.authentication_config is not None and category != "AUTHENTICATION":
        issues[f"{ROOT}.authenticationConfig"] = [
            "Only AUTHENTICATION templates take an authenticationConfig"
        ]
    return issues
