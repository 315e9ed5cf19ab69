"""Property-based tests of the `{{index:name}}` placeholder parser: valid texts round-trip,
malformed ones are refused with a position (and, inside a definition, VALIDATION_001 with a
path), and no input makes anything else escape."""

from __future__ import annotations

import itertools
import string
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sentd.errors.exceptions import ApiError
from sentd.services.templates import validate_definition
from sentd.templating import (
    DefinitionError,
    MissingParameters,
    Placeholder,
    PlaceholderError,
    format_segments,
    parse,
    parse_definition,
    render_text,
)
from sentd.templating.definition import Text
from sentd.templating.placeholders import placeholders

names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,20}", fullmatch=True)
indexes = st.integers(min_value=0, max_value=999_999_999)
placeholder_st = st.builds(Placeholder, indexes, names)
# Literal runs: anything without a doubled brace, biased towards the characters that matter.
literal_alphabet = st.sampled_from("{}:_ 0123456789ab\n") | st.characters()
literals = st.text(literal_alphabet, min_size=1, max_size=12).filter(
    lambda s: "{{" not in s and "}}" not in s
)


@st.composite
def segment_lists(draw: st.DrawFn) -> list[str | Placeholder]:
    """Canonical segments: placeholders, with at most one literal run between two of them."""
    found = draw(st.lists(placeholder_st, max_size=6))
    segments: list[str | Placeholder] = []
    for item in found:
        if draw(st.booleans()):
            segments.append(draw(literals))
        segments.append(item)
    if draw(st.booleans()):
        segments.append(draw(literals))
    return segments


# Texts near the syntax: braces, digits, colons and names in every order.
tricky = st.lists(
    st.sampled_from(["{", "}", "{{", "}}", ":", "0", "1", "07", "a", "_", " ", "é", "{{0:a}}"])
).map("".join)
any_text = tricky | st.text()


@given(segment_lists())
def test_valid_texts_round_trip(segments: list[str | Placeholder]) -> None:
    text = format_segments(segments)
    assert parse(text) == segments
    assert format_segments(parse(text)) == text


@given(any_text)
@example("{{0:name}}")
@example("{{{0:name}}}")
@example("{{00:name}}")
@example("{{0:9name}}")
@example("{{ 0:name }}")
@example("}}{{")
def test_any_text_parses_exactly_or_is_refused_with_a_position(text: str) -> None:
    try:
        segments = parse(text)
    except PlaceholderError as exc:
        assert 0 <= exc.position < len(text)
        assert text[exc.position : exc.position + 2] in ("{{", "}}")
        assert "{{index:name}}" in exc.message
        return
    assert format_segments(segments) == text
    for left, right in itertools.pairwise(segments):
        assert not (isinstance(left, str) and isinstance(right, str))
    for segment in segments:
        if isinstance(segment, str):
            assert segment and "{{" not in segment and "}}" not in segment


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("Hi {{name}}", 3),
        ("Hi {{0:name}", 3),
        ("Hi }} there", 3),
        ("{{00:a}}", 0),
        ("{{0:a}} and {{1 :b}}", 12),
        ("{{0:a}}}}", 7),
    ],
)
def test_malformed_examples(text: str, position: int) -> None:
    with pytest.raises(PlaceholderError) as raised:
        parse(text)
    assert raised.value.position == position


def _body(template: Any, variables: Any = None) -> dict[str, Any]:
    content: dict[str, Any] = {"template": template}
    if variables is not None:
        content["variables"] = variables
    return {"body": {"multiChannel": content}}


@given(any_text)
def test_body_text_is_accepted_or_refused_with_a_path(text: str) -> None:
    """Through the definition: any text either validates, or gives VALIDATION_001 whose details
    point into the body — never another exception."""
    try:
        definition = validate_definition(_body(text))
    except ApiError as exc:
        assert exc.code == "VALIDATION_001"
        assert exc.details
        assert all(path.startswith("definition.body") for path in exc.details)
        return
    assert definition.body["multiChannel"].text.template == text


@given(st.text(string.ascii_letters + " {}:0123456789_", max_size=40))
def test_malformed_placeholders_point_at_the_template(text: str) -> None:
    try:
        parse(text)
    except PlaceholderError:
        with pytest.raises(ApiError) as raised:
            validate_definition(_body(f"Hello there {text} friend"))
        assert raised.value.code == "VALIDATION_001"
        assert raised.value.details is not None
        assert "definition.body.multiChannel.template" in raised.value.details


@st.composite
def bodies_with_variables(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """A body that follows every rule, with distinct variables and their values."""
    chosen = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    words = st.lists(
        st.sampled_from(["order", "ready", "thanks", "soon", "today", "now"]),
        min_size=2,
        max_size=4,
    ).map(" ".join)
    text = draw(words)
    for i, name in enumerate(chosen):
        text += " {{" + f"{i}:{name}" + "}} " + draw(words)
    values = {name: draw(st.text(max_size=10)) for name in chosen}
    return text, values


@given(bodies_with_variables())
def test_rendering_fills_every_placeholder_and_names_the_missing(
    case: tuple[str, dict[str, str]],
) -> None:
    text, values = case
    variables = [
        {"id": i, "name": name, "type": "variable", "props": {"sample": "x"}}
        for i, name in enumerate(values)
    ]
    definition = parse_definition(_body(text, variables))
    body: Text = definition.body["multiChannel"].text
    rendered = render_text(body, values)
    expected = text
    for placeholder in placeholders(body.segments):
        expected = expected.replace(str(placeholder), values[placeholder.name])
    assert rendered == expected
    missing = next(iter(values))
    with pytest.raises(MissingParameters) as raised:
        render_text(body, {k: v for k, v in values.items() if k != missing})
    assert set(raised.value.missing) == {missing}
    by_index = {str(i): values[name] for i, name in enumerate(values)}
    assert render_text(body, by_index) == expected  # positional keys work too
    assert parse_definition(definition.to_wire()) == definition


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "body",
                    "multiChannel",
                    "sms",
                    "whatsapp",
                    "rcs",
                    "mms",
                    "template",
                    "variables",
                    "id",
                    "name",
                    "type",
                    "props",
                    "sample",
                    "url",
                    "header",
                    "footer",
                    "buttons",
                    "text",
                    "location",
                    "latitude",
                    "media",
                    "authenticationConfig",
                    "codeExpirationMinutes",
                    "example_url",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@given(json_values)
def test_any_json_definition_is_accepted_or_refused_never_crashes(raw: Any) -> None:
    try:
        definition = parse_definition(raw)
    except DefinitionError as exc:
        assert exc.issues and all(path.startswith("definition") for path in exc.issues)
        return
    assert parse_definition(definition.to_wire()) == definition
