"""The template definition: the camelCase model of `definition` in `POST/PUT /v3/templates`,
as pydantic models that validate decoded JSON in full and describe it in the OpenAPI document.

`parse_definition(raw)` returns a `Definition` or raises `DefinitionError` whose `issues` map
each offending path (`definition.body.multiChannel.template`, `definition.buttons[0].props.text`)
to its messages. Unknown keys are dropped; `null` counts as absent. `Definition.to_wire()` is the
normalised form that is stored and read back, and parses again to the same `Definition`.
`definition_json_schema()` is the schema the OpenAPI document publishes (its shape: types,
required keys, choices and ranges; the rules below that tie fields together are not in it).

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

How problems are reported: pydantic validates every field of every section and collects all
failures; the checks that tie fields of one section together (placeholders against variables,
Meta's body rules, what a button type needs) run once that section's own fields are valid. The
checks across the items of a list (unique ids and names, counts per button type) run over the
items that are valid, so a bad item does not hide a repeated id further down.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, ClassVar, Literal, Required, Self, TypeVar, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    Strict,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError
from typing_extensions import TypedDict  # pydantic needs it before Python 3.12

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
MAX_HEADER_MEDIA = 2000
MAX_FOOTER = 60
MAX_BUTTONS = 10
MAX_BUTTON_TEXT = 25
MAX_BUTTONS_OF_TYPE = {"URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1}
MAX_URL_VARIABLES = 1
MAX_URL = 2000
MAX_OFFER_CODE = 15
MAX_SUBJECT = 80
MAX_VARIABLE_NAME = 64
MAX_VARIABLE_ID = 999
MAX_BUTTON_ID = 99
MAX_ACTIVE_FOR = 1_000_000
MAX_MMS_MEDIA = 10
VariableType = Literal["variable", "link", "media"]
HeaderType = Literal["text", "image", "video", "gif", "document", "location"]
ButtonType = Literal["QUICK_REPLY", "URL", "PHONE_NUMBER", "VOICE_CALL", "COPY_CODE"]
VARIABLE_TYPES: tuple[str, ...] = get_args(VariableType)
HEADER_TYPES: tuple[str, ...] = get_args(HeaderType)
BUTTON_TYPES: tuple[str, ...] = get_args(ButtonType)
MEDIA_HEADER_TYPES = ("image", "video", "gif", "document")
URL_TYPES = ("static", "dynamic")
FORMATTING_MARKS = ("*", "_", "~")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")

REQUIRED = "This field is required"
ISSUE = "definition"  # the pydantic error type of every rule below


class DefinitionError(ValueError):
    def __init__(self, issues: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{path}: {', '.join(m)}" for path, m in issues.items()))
        self.issues = issues


# -- reporting ------------------------------------------------------------------------------

Loc = tuple[str | int, ...]
T = TypeVar("T")

# pydantic's own failures, in the words of the API (the rules below speak for themselves).
_MESSAGES = {
    "missing": REQUIRED,
    "string_type": "Must be a string",
    "int_type": "Must be an integer",
    "int_from_float": "Must be an integer",
    "int_parsing": "Must be an integer",
    "bool_type": "Must be true or false",
    "list_type": "Must be an array",
    "tuple_type": "Must be an array",
    "model_type": "Must be an object",
    "model_attributes_type": "Must be an object",
    "dict_type": "Must be an object",
}


def _message(error: ErrorDetails) -> str:
    context = error.get("ctx") or {}
    if error["type"] == ISSUE:
        return str(context["message"])
    if error["type"] == "literal_error":
        choices = re.findall(r"'([^']*)'", str(context.get("expected", "")))
        return f"Must be one of: {', '.join(choices)}"
    return _MESSAGES.get(error["type"], error["msg"])


def _path(loc: Loc) -> str:
    return ROOT + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


def _issue(message: str) -> PydanticCustomError:
    return PydanticCustomError(ISSUE, "{message}", {"message": message})


class _Issues:
    """The problems one validator finds, raised together, each at its place below it."""

    def __init__(self) -> None:
        self.errors: list[InitErrorDetails] = []

    def add(self, loc: Loc, message: str) -> None:
        self.errors.append({"type": _issue(message), "loc": loc, "input": None})

    def extend(self, error: ValidationError, prefix: Loc = ()) -> None:
        for detail in error.errors():
            self.add((*prefix, *detail["loc"]), _message(detail))

    def raise_any(self, title: str) -> None:
        if self.errors:
            raise ValidationError.from_exception_data(title, self.errors)


def _whole_list(value: Any, handler: ValidatorFunctionWrapHandler) -> tuple[Any, ...]:
    """`value` checked by `handler` as a whole; `()` when it is a list with an invalid item (then
    `_valid_items` checks the items one by one, so the checks across items see the valid ones)."""
    try:
        checked: tuple[Any, ...] = handler(value)
    except ValidationError:
        if not isinstance(value, list):
            raise
        return ()
    return checked


def _valid_items(
    checked: tuple[T, ...], value: Any, item: TypeAdapter[T], issues: _Issues
) -> Iterator[tuple[int, T]]:
    """The items of a list with their index: those of `checked`, or when it is empty those of
    `value` that `item` accepts (an issue for each it refuses, at its index)."""
    if checked:
        yield from enumerate(checked)
        return
    for i, raw in enumerate(value):
        try:
            valid = item.validate_python(raw)
        except ValidationError as exc:
            issues.extend(exc, (i,))
            continue
        yield i, valid


def _raise(title: str, loc: Loc, *messages: str) -> None:
    issues = _Issues()
    for message in messages:
        issues.add(loc, message)
    issues.raise_any(title)


# -- field types ----------------------------------------------------------------------------


def _null_is_absent(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: value for key, value in data.items() if value is not None}
    return data


def _integral(value: Any) -> Any:
    """JSON has one number type: 2.0 is the integer 2."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _between(low: int, high: int) -> AfterValidator:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise _issue(f"Must be between {low} and {high}")
        return value

    return AfterValidator(check)


def _range_schema(low: int, high: int) -> WithJsonSchema:
    return WithJsonSchema({"type": "integer", "minimum": low, "maximum": high})


Integer = Annotated[int, BeforeValidator(_integral), Strict()]
Boolean = Annotated[bool, Strict()]
VariableId = Annotated[Integer, _between(0, MAX_VARIABLE_ID), _range_schema(0, MAX_VARIABLE_ID)]
ButtonId = Annotated[Integer, _between(0, MAX_BUTTON_ID), _range_schema(0, MAX_BUTTON_ID)]
ActiveFor = Annotated[Integer, _between(0, MAX_ACTIVE_FOR), _range_schema(0, MAX_ACTIVE_FOR)]
ExpirationMinutes = Annotated[Integer, _between(1, 90), _range_schema(1, 90)]


def _variable_name(name: str) -> str:
    if not (NAME.fullmatch(name) and len(name) <= MAX_VARIABLE_NAME):
        raise _issue(
            "Start with a letter and use only letters, digits and underscores "
            f"(at most {MAX_VARIABLE_NAME})"
        )
    return name


def _version(version: str) -> str:
    if not 1 <= len(version) <= 20:
        raise _issue("Use 1 to 20 characters, e.g. 1.0")
    return version


def _subject(subject: str) -> str:
    if len(subject) > MAX_SUBJECT:
        raise _issue(f"Use at most {MAX_SUBJECT} characters")
    return subject


def _coordinate(bound: float) -> AfterValidator:
    def check(value: str) -> str:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and -bound <= number <= bound):
            raise _issue(f"Must be a number between {-bound:g} and {bound:g}")
        return value

    return AfterValidator(check)


def _label(label: str) -> str:
    messages: list[str] = []
    if not label.strip():
        messages.append("Must not be empty")
    elif len(label) > MAX_BUTTON_TEXT:
        messages.append(f"Use at most {MAX_BUTTON_TEXT} characters")
    if (
        "{{" in label
        or "\n" in label
        or "\r" in label
        or any(mark in label for mark in FORMATTING_MARKS)
        or any(is_emoji(c) for c in label)
    ):
        messages.append("Buttons can't have variables, line breaks, emoji or formatting marks")
    _raise("ButtonProps", (), *messages)
    return label


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


def _is_url(value: str, *, https_only: bool) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    schemes = ("https",) if https_only else ("http", "https")
    return parts.scheme in schemes and bool(parts.hostname) and " " not in value


class _Wire(BaseModel):
    """A part of the definition: immutable, unknown keys dropped, `null` meaning absent."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls(cls, data: Any) -> Any:
        return _null_is_absent(data)


# -- variables ------------------------------------------------------------------------------


class VariableProps(TypedDict, total=False):
    """A variable's props (camelCase, as on the wire); a number or boolean sample is kept as
    its text."""

    sample: Annotated[str, WithJsonSchema({"type": ["string", "number", "boolean"]})]
    url: str
    mediaType: str
    variableType: str
    alt: str
    regex: str
    shortUrl: str


def _variable_props(data: Any) -> Any:
    if not isinstance(data, Mapping):
        return data
    props = _null_is_absent(data)
    sample = props.get("sample")
    if isinstance(sample, bool):
        props["sample"] = "true" if sample else "false"
    elif isinstance(sample, int | float):
        if math.isfinite(sample):
            props["sample"] = str(sample)
        else:
            del props["sample"]
    return props


class Variable(_Wire):
    id: VariableId = 0
    name: Annotated[str, AfterValidator(_variable_name)]
    type: VariableType
    props: Annotated[VariableProps, BeforeValidator(_variable_props)]

    @model_validator(mode="after")
    def _props_fit_the_type(self) -> Self:
        issues = _Issues()
        if not self.props.get("sample", "").strip():
            issues.add(("props", "sample"), "Give an example value (used for previews and review)")
        if self.type in ("link", "media") and not _is_url(
            self.props.get("url", ""), https_only=False
        ):
            issues.add(("props", "url"), f"A {self.type} variable needs an http(s) url")
        if self.type == "media" and not self.props.get("mediaType"):
            issues.add(("props", "mediaType"), "A media variable needs its mediaType")
        issues.raise_any(type(self).__name__)
        return self

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "type": self.type, "props": dict(self.props)}


_VARIABLE = TypeAdapter(Variable)


def _unique_variables(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Each variable on its own, then unique ids and names among the valid ones."""
    variables: tuple[Variable, ...] = _whole_list(value, handler)
    issues = _Issues()
    ids: set[int] = set()
    names: set[str] = set()
    for i, variable in _valid_items(variables, value, _VARIABLE, issues):
        if variable.id in ids:
            issues.add((i, "id"), f"Variables must have unique ids ({variable.id} repeats)")
        elif variable.name in names:
            issues.add((i, "name"), f"Variables must have unique names ({variable.name!r})")
        else:
            ids.add(variable.id)
            names.add(variable.name)
    issues.raise_any("variables")
    return variables


Variables = Annotated[tuple[Variable, ...], WrapValidator(_unique_variables)]


def _inferred_variables(issues: _Issues, segments: list[Segment], loc: Loc) -> list[Variable]:
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
                issues.add(
                    loc, f"{placeholder} gives variable {index} a second name ({known.name!r})"
                )
            continue
        if ids_of_name.get(name, index) != index:
            issues.add(
                loc, f"{placeholder} reuses the name {name!r} of variable {ids_of_name[name]}"
            )
            continue
        if index > MAX_VARIABLE_ID:
            issues.add(loc, f"{placeholder}: variable ids go up to {MAX_VARIABLE_ID}")
            continue
        if len(name) > MAX_VARIABLE_NAME:
            issues.add(loc, f"{placeholder}: use at most {MAX_VARIABLE_NAME} characters for a name")
            continue
        by_id[index] = Variable.model_construct(
            id=index, name=name, type="variable", props={"sample": name}
        )
        ids_of_name[name] = index
    return list(by_id.values())


def _match_variables(
    issues: _Issues,
    segments: list[Segment],
    variables: tuple[Variable, ...],
    text_loc: Loc,
    variables_loc: Loc,
) -> None:
    """Every placeholder names a declared variable (same id and name); every variable is used."""
    by_id = {v.id: v for v in variables}
    used: set[int] = set()
    for placeholder in placeholders(segments):
        variable = by_id.get(placeholder.index)
        if variable is None:
            issues.add(text_loc, f"{placeholder} has no variable with id {placeholder.index}")
        elif variable.name != placeholder.name:
            issues.add(
                text_loc,
                f"{placeholder} names variable {placeholder.index} {placeholder.name!r}, "
                f"but it is declared as {variable.name!r}",
            )
        else:
            used.add(placeholder.index)
    for i, variable in enumerate(variables):
        if variable.id not in used:
            issues.add((*variables_loc, i), f"Variable {variable.id} ({variable.name}) is not used")


# -- texts: bodies, header, footer ----------------------------------------------------------

TEMPLATE: Loc = ("template",)


class Text(_Wire):
    """A text with placeholders and the variables they refer to: a body, header or footer.

    `segments` is the parsed `template`. A section that declares no variables gets one per
    placeholder. Subclasses add their own rules in `_section_rules`."""

    template: str
    variables: Variables = ()

    max_length: ClassVar[int] = MAX_BODY
    _segments: tuple[Segment, ...] = PrivateAttr(default=())

    @property
    def segments(self) -> tuple[Segment, ...]:
        return self._segments

    @property
    def text(self) -> Self:
        """The section's text (the section itself: a body or a header is a text with more)."""
        return self

    @property
    def placeholders(self) -> list[Placeholder]:
        return placeholders(self._segments)

    def _allows_empty(self) -> bool:
        return False

    def _limit(self) -> int:
        return self.max_length

    def _section_rules(self, issues: _Issues, *, read: bool) -> None:
        """Rules of the section's kind; `read` says whether its template could be read."""

    @model_validator(mode="after")
    def _read(self) -> Self:
        issues = _Issues()
        section = self._read_template(issues)
        (section or self)._section_rules(issues, read=section is not None)
        issues.raise_any(type(self).__name__)
        return section or self

    def _read_template(self, issues: _Issues) -> Self | None:
        template = self.template
        if not self._allows_empty() and not template.strip():
            issues.add(TEMPLATE, "Must not be empty")
            return None
        limit = self._limit()
        if len(template) > limit:
            issues.add(TEMPLATE, f"Use at most {limit} characters ({len(template)} given)")
        try:
            segments = parse(template)
        except PlaceholderError as exc:
            issues.add(TEMPLATE, exc.message)
            return None
        section = self
        if not self.variables:
            inferred = _inferred_variables(issues, segments, TEMPLATE)
            if inferred:
                section = self.model_copy(update={"variables": tuple(inferred)})
        _match_variables(issues, segments, section.variables, TEMPLATE, ("variables",))
        section._segments = tuple(segments)
        return section

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"template": self.template}
        kind = getattr(self, "type", None)
        if kind is not None:
            wire["type"] = kind
        if self.variables:
            wire["variables"] = [v.to_wire() for v in self.variables]
        return wire


_LETTER = re.compile(r"[^\W\d_]")


def _has_letter(text: str) -> bool:
    return _LETTER.search(text) is not None


class Body(Text):
    """A message body (at most 1024 characters) and the variables of its placeholders."""

    type: Literal["text"] | None = None

    def _section_rules(self, issues: _Issues, *, read: bool) -> None:
        if read:
            _body_rules(issues, self)


class RcsBody(Body):
    """The RCS body (at most 3072 characters)."""

    max_length: ClassVar[int] = MAX_RCS_BODY


class MmsMedia(_Wire):
    url: str
    media_type: str | None = Field(None, alias="mediaType")

    @model_validator(mode="after")
    def _public(self) -> Self:
        if not _is_url(self.url, https_only=True):
            _raise(type(self).__name__, ("url",), "Use a public https:// URL")
        return self

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"url": self.url}
        if self.media_type is not None:
            wire["mediaType"] = self.media_type
        return wire


def _few_attachments(media: tuple[MmsMedia, ...]) -> tuple[MmsMedia, ...]:
    if len(media) > MAX_MMS_MEDIA:
        raise _issue(f"At most {MAX_MMS_MEDIA} attachments")
    return media


class MmsBody(Body):
    """The MMS body, with its subject and attachments."""

    subject: Annotated[str, AfterValidator(_subject)] | None = None
    media: Annotated[tuple[MmsMedia, ...], AfterValidator(_few_attachments)] = ()

    def to_wire(self) -> dict[str, Any]:
        wire = super().to_wire()
        if self.subject is not None:
            wire["subject"] = self.subject
        if self.media:
            wire["media"] = [m.to_wire() for m in self.media]
        return wire


def _body_rules(issues: _Issues, text: Text) -> None:
    """Meta's rules for a body's shape and the context around its variables."""
    template = text.template.replace("\r\n", "\n")
    if template.startswith("\n") or template.endswith("\n"):
        issues.add(TEMPLATE, "Must not start or end with a line break")
    if "\n\n\n" in template:
        issues.add(TEMPLATE, "At most two line breaks in a row")
    if "     " in template:
        issues.add(TEMPLATE, "At most four spaces in a row")
    segments = text.segments
    count = len(text.placeholders)
    if count == 0:
        return
    first, last = segments[0], segments[-1]
    if not (isinstance(first, str) and _has_letter(first)):
        issues.add(TEMPLATE, "Put some words before the first variable")
    if not (isinstance(last, str) and _has_letter(last)):
        issues.add(TEMPLATE, "Put some words after the last variable")
    previous: Placeholder | None = None
    gap = ""
    for segment in segments:
        if isinstance(segment, str):
            gap = segment
            continue
        if previous is not None and not gap.strip():
            issues.add(
                TEMPLATE,
                f"Variables {previous} and {segment} are next to each other; put words between",
            )
        previous, gap = segment, ""
    words = [w for w in literal_text(segments).split() if any(c.isalnum() for c in w)]
    if len(words) < 2 * count + 1:
        issues.add(
            TEMPLATE,
            f"With {count} variable(s) the text needs at least {2 * count + 1} words besides "
            f"them ({len(words)} given)",
        )


class Location(_Wire):
    name: str
    address: str
    latitude: Annotated[str, _coordinate(90.0)]
    longitude: Annotated[str, _coordinate(180.0)]

    def to_wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": self.address,
            "latitude": self.latitude,
            "longitude": self.longitude,
        }


class Header(Text):
    """A text header (one line, at most one variable), a media header with its https sample, or
    a location. A media or location header's `template` may be empty."""

    type: HeaderType = "text"
    example_url: str | None = None
    static_resource: Boolean = False
    location: Location | None = None

    def _allows_empty(self) -> bool:
        return self.type != "text"

    def _limit(self) -> int:
        return MAX_HEADER_TEXT if self.type == "text" else MAX_HEADER_MEDIA

    def _section_rules(self, issues: _Issues, *, read: bool) -> None:
        if self.type == "text" and read:
            if len(self.placeholders) > 1:
                issues.add(TEMPLATE, "A text header holds at most one variable")
            if "\n" in self.template or "\r" in self.template:
                issues.add(TEMPLATE, "A header is one line")
        if self.type in MEDIA_HEADER_TYPES and not _is_url(self.example_url or "", https_only=True):
            issues.add(
                ("example_url",), f"The {self.type} header needs an https example_url (its sample)"
            )
        if self.type == "location" and self.location is None:
            issues.add(("location",), "A location header needs its location")

    def to_wire(self) -> dict[str, Any]:
        wire = super().to_wire()
        if self.example_url is not None:
            wire["example_url"] = self.example_url
        if self.static_resource:
            wire["static_resource"] = True
        if self.location is not None:
            wire["location"] = self.location.to_wire()
        return wire


class Footer(Text):
    """A footer: one line of at most 60 characters."""

    type: Literal["text"] | None = None

    max_length: ClassVar[int] = MAX_FOOTER

    def _section_rules(self, issues: _Issues, *, read: bool) -> None:
        if read and ("\n" in self.template or "\r" in self.template):
            issues.add(TEMPLATE, "A footer is one line")


_COMBINATION = {
    "both": "Use either a multiChannel body or an sms + whatsapp pair, not both",
    "half": "An sms body needs a whatsapp body beside it, and the other way round",
    "none": "Give a multiChannel body, or an sms + whatsapp pair (rcs and mms only override one "
    "of those)",
}


class Bodies(_Wire):
    """A multiChannel body, or an sms + whatsapp pair; rcs and mms override one of those."""

    # Read like a mapping of the bodies present: `bodies["sms"]`, `"rcs" in bodies`.

    multi_channel: Body | None = Field(None, alias="multiChannel")
    sms: Body | None = None
    whatsapp: Body | None = None
    rcs: RcsBody | None = None
    mms: MmsBody | None = None

    ATTRIBUTES: ClassVar[dict[str, str]] = {"multiChannel": "multi_channel"}

    @model_validator(mode="wrap")
    @classmethod
    def _one_combination(cls, data: Any, handler: ModelWrapValidatorHandler[Bodies]) -> Bodies:
        if not isinstance(data, Mapping):
            return handler(data)
        present = {key for key in BODY_KEYS if data.get(key) is not None}
        shared, sms, whatsapp = "multiChannel" in present, "sms" in present, "whatsapp" in present
        issues = _Issues()
        if shared and (sms or whatsapp):
            issues.add((), _COMBINATION["both"])
        elif not shared and sms != whatsapp:
            issues.add((), _COMBINATION["half"])
        elif not shared and not sms:
            issues.add((), _COMBINATION["none"])
        try:
            bodies = handler(data)
        except ValidationError as exc:
            issues.extend(exc)
            issues.raise_any(cls.__name__)
            raise
        issues.raise_any(cls.__name__)
        return bodies

    def get(self, key: str) -> Body | None:
        value: Body | None = getattr(self, self.ATTRIBUTES.get(key, key), None)
        return value if key in BODY_KEYS else None

    def __getitem__(self, key: str) -> Body:
        body = self.get(key)
        if body is None:
            raise KeyError(key)
        return body

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def present(self) -> Iterator[tuple[str, Body]]:
        """(key, body) of the bodies present, in BODY_KEYS order."""
        for key in BODY_KEYS:
            body = self.get(key)
            if body is not None:
                yield key, body

    def to_wire(self) -> dict[str, Any]:
        return {key: body.to_wire() for key, body in self.present()}


# -- buttons --------------------------------------------------------------------------------


class ButtonProps(TypedDict, total=False):
    """A button's props (camelCase, as on the wire): its label and what its type needs."""

    text: Required[Annotated[str, AfterValidator(_label)]]
    url: str
    urlType: str
    phoneNumber: str
    countryCode: str
    offerCode: str
    quickReplyType: str
    autofillText: str
    otpType: str
    packageName: str
    signatureHash: str
    activeFor: ActiveFor
    variables: Variables


PROPS: Loc = ("props",)


def _button_props(data: Any) -> Any:
    props = _null_is_absent(data)
    if isinstance(props, dict) and props.get("variables") == []:
        del props["variables"]  # as absent (`to_wire` writes the empty list)
    return props


class Button(_Wire):
    id: ButtonId = 0
    type: ButtonType
    props: Annotated[ButtonProps, BeforeValidator(_button_props)]

    _url_segments: tuple[Segment, ...] = PrivateAttr(default=())

    @property
    def text(self) -> str:
        return self.props["text"]

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(self.props.get("variables", ()))

    @property
    def url(self) -> str | None:
        return self.props.get("url")

    @property
    def url_segments(self) -> tuple[Segment, ...]:
        return self._url_segments

    @model_validator(mode="after")
    def _fits_its_type(self) -> Self:
        issues = _Issues()
        kind, props = self.type, self.props
        if kind == "URL":
            self._url_segments = tuple(self._url_rules(issues))
        elif kind == "PHONE_NUMBER":
            phone = props.get("phoneNumber")
            if phone is None:
                issues.add((*PROPS, "phoneNumber"), REQUIRED)
            elif not E164.fullmatch(phone):
                issues.add((*PROPS, "phoneNumber"), "Use an E.164 number, e.g. +14155550100")
        elif self.variables:
            issues.add((*PROPS, "variables"), f"A {kind} button holds no variables")
        offer = props.get("offerCode")
        if kind == "COPY_CODE" and offer is not None and len(offer) > MAX_OFFER_CODE:
            issues.add((*PROPS, "offerCode"), f"Use at most {MAX_OFFER_CODE} characters")
        issues.raise_any(type(self).__name__)
        return self

    def _url_rules(self, issues: _Issues) -> list[Segment]:
        url, url_type, variables = self.props.get("url"), self.props.get("urlType"), self.variables
        url_loc, variables_loc = (*PROPS, "url"), (*PROPS, "variables")
        if url is None:
            issues.add(url_loc, REQUIRED)
            return []
        if url_type is not None and url_type not in URL_TYPES:
            issues.add((*PROPS, "urlType"), f"Must be one of: {', '.join(URL_TYPES)}")
            return []
        try:
            segments = parse(url)
        except PlaceholderError as exc:
            issues.add(url_loc, exc.message)
            return []
        found = placeholders(segments)
        if len(url) > MAX_URL:
            issues.add(url_loc, f"Use at most {MAX_URL} characters")
        if not _is_url(literal_text(segments, "x"), https_only=False):
            issues.add(url_loc, "Use an absolute http:// or https:// URL")
            return []
        if not found:
            if url_type == "dynamic":
                issues.add(
                    url_loc,
                    "A dynamic URL ends with its variable, e.g. "
                    "https://shop.test/orders/{{0:order_id}}",
                )
            if variables:
                issues.add(variables_loc, "A static URL button holds no variables")
            return segments
        if url_type == "static":
            issues.add(url_loc, "A static URL holds no variables (set urlType to dynamic)")
        elif len(found) > MAX_URL_VARIABLES or not isinstance(segments[-1], Placeholder):
            issues.add(url_loc, "A dynamic URL holds one variable, at its very end")
        else:
            _match_variables(issues, segments, variables, url_loc, variables_loc)
        return segments

    def to_wire(self) -> dict[str, Any]:
        props: dict[str, Any] = dict(self.props)
        props["variables"] = [v.to_wire() for v in self.variables]
        return {"id": self.id, "type": self.type, "props": props}


_BUTTON = TypeAdapter(Button)


def _buttons(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Each button on its own, then the count, unique ids and counts per type of the valid."""
    buttons: tuple[Button, ...] = _whole_list(value, handler)
    issues = _Issues()
    if len(value) > MAX_BUTTONS:
        issues.add((), f"At most {MAX_BUTTONS} buttons")
    ids: set[int] = set()
    per_type: dict[str, int] = {}
    for i, button in _valid_items(buttons, value, _BUTTON, issues):
        if button.id in ids:
            issues.add((i, "id"), f"Button ids must be unique ({button.id} repeats)")
            continue
        ids.add(button.id)
        per_type[button.type] = per_type.get(button.type, 0) + 1
    for kind, most in MAX_BUTTONS_OF_TYPE.items():
        if per_type.get(kind, 0) > most:
            issues.add((), f"At most {most} {kind} button(s)")
    issues.raise_any("buttons")
    return buttons


class AuthenticationConfig(_Wire):
    add_security_recommendation: Boolean | None = Field(None, alias="addSecurityRecommendation")
    code_expiration_minutes: ExpirationMinutes | None = Field(None, alias="codeExpirationMinutes")

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        if self.add_security_recommendation is not None:
            wire["addSecurityRecommendation"] = self.add_security_recommendation
        if self.code_expiration_minutes is not None:
            wire["codeExpirationMinutes"] = self.code_expiration_minutes
        return wire


# -- the definition -------------------------------------------------------------------------


class Definition(_Wire):
    """A message template: its bodies per channel, and the header, footer and buttons that
    WhatsApp and RCS show. `null` counts as absent; unknown keys are ignored."""

    body: Bodies
    header: Header | None = None
    footer: Footer | None = None
    buttons: Annotated[tuple[Button, ...], WrapValidator(_buttons)] = ()
    authentication_config: AuthenticationConfig | None = Field(None, alias="authenticationConfig")
    definition_version: Annotated[str, AfterValidator(_version)] | None = Field(
        None, alias="definitionVersion"
    )

    def body_for(self, channel: str) -> Body | None:
        """The body `channel` renders (its fallback chain), or None when it renders none."""
        for key in BODY_FOR_CHANNEL[channel]:
            body = self.body.get(key)
            if body is not None:
                return body
        return None

    @property
    def channels(self) -> list[str]:
        """The channels with a body, in canonical order: sms, whatsapp, rcs, mms."""
        return [c for c in CHANNELS if self.body_for(c) is not None]

    @property
    def main_body(self) -> Body:
        """The body that best represents the template (for names and category detection)."""
        for key in ("multiChannel", "whatsapp", "sms", "rcs", "mms"):
            body = self.body.get(key)
            if body is not None:
                return body
        raise LookupError("a definition always has a body")

    def texts(self) -> Iterator[tuple[str, Text]]:
        """Every text section, with its path: header, bodies, footer."""
        if self.header is not None:
            yield f"{ROOT}.header", self.header
        for key, body in self.body.present():
            yield f"{ROOT}.body.{key}", body
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
        wire: dict[str, Any] = {"body": self.body.to_wire()}
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


def parse_definition(raw: Any) -> Definition:
    """The definition in `raw` (decoded JSON), or DefinitionError naming every problem."""
    try:
        return Definition.model_validate(raw)
    except ValidationError as exc:
        issues: dict[str, list[str]] = {}
        for error in exc.errors():
            issues.setdefault(_path(error["loc"]), []).append(_message(error))
        raise DefinitionError(issues or {ROOT: ["Invalid definition"]}) from None


def check_category(definition: Definition, category: str) -> dict[str, list[str]]:
    """Rules that tie the definition to its category (empty when it fits)."""
    issues: dict[str, list[str]] = {}
    if definition.authentication_config is not None and category != "AUTHENTICATION":
        issues[f"{ROOT}.authenticationConfig"] = [
            "Only AUTHENTICATION templates take an authenticationConfig"
        ]
    return issues


# -- the published schema -------------------------------------------------------------------


def _accepts_null(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(_accepts_null(option) for option in schema.get("anyOf", ()))


def _optional_keys_accept_null(schema: dict[str, Any]) -> None:
    """`null` is absent: every key that may be left out may also be null."""
    required = set(schema.get("required", ()))
    properties: dict[str, Any] = schema.get("properties", {})
    for key, prop in properties.items():
        if key in required or _accepts_null(prop):
            continue
        outer = {k: prop.pop(k) for k in ("title", "description", "default") if k in prop}
        properties[key] = {"anyOf": [prop, {"type": "null"}], **outer}


def definition_json_schema(ref_template: str) -> dict[str, Any]:
    """The JSON schema of a definition as a client sends it, its parts under `$defs` (named
    after the models; `ref_template` places them)."""
    schema = Definition.model_json_schema(by_alias=True, ref_template=ref_template)
    for part in [schema, *schema.get("$defs", {}).values()]:
        _optional_keys_accept_null(part)
    return schema
