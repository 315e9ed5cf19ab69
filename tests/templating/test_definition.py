"""The definition model: its rules one by one, what is derived from it, and a property over
near-valid definitions (valid ones round-trip and render on every channel they list; invalid ones
are refused with paths, never with another exception)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentd.providers.whatsapp_templates import components, meta_name
from sentd.templating import (
    CHANNELS,
    DefinitionError,
    derive_name,
    detect_category,
    parse_definition,
    render_message,
)
from sentd.templating.definition import BODY_KEYS, BUTTON_TYPES, HEADER_TYPES


def var(index: int, name: str, **props: str) -> dict[str, Any]:
    return {"id": index, "name": name, "type": "variable", "props": {"sample": "s", **props}}


def body(text: str, variables: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"template": text, "variables": variables or []}


def issues(raw: Any) -> dict[str, list[str]]:
    with pytest.raises(DefinitionError) as raised:
        parse_definition(raw)
    return raised.value.issues


SHARED = body("Hello {{0:name}}, your table for tonight is ready.", [var(0, "name")])


def test_channels_follow_the_fallback_chains() -> None:
    pair = parse_definition({"body": {"sms": body("Hi there"), "whatsapp": body("Hello there")}})
    assert pair.channels == list(CHANNELS)
    assert pair.body_for("rcs") is pair.body["sms"]  # rcs and mms fall back to sms
    assert pair.body_for("whatsapp") is pair.body["whatsapp"]
    with_rcs = parse_definition({"body": {"multiChannel": SHARED, "rcs": body("R " * 1500)}})
    assert with_rcs.body_for("rcs") is with_rcs.body["rcs"]  # rcs allows 3072 characters
    assert with_rcs.body_for("mms") is with_rcs.body["multiChannel"]


def test_rcs_body_limit_and_the_others() -> None:
    assert "definition.body.rcs.template" in issues(
        {"body": {"multiChannel": SHARED, "rcs": body("R" * 3073)}}
    )
    assert "definition.body.multiChannel.template" in issues(
        {"body": {"multiChannel": body("a" * 1025)}}
    )


def test_variables_are_shared_by_name_across_sections() -> None:
    definition = parse_definition(
        {
            "header": {"template": "For {{0:name}}", "variables": [var(0, "name")]},
            "body": {
                "multiChannel": body(
                    "Dear {{0:name}}, your code {{1:code}} is here now.",
                    [var(0, "name"), var(1, "code")],
                )
            },
        }
    )
    assert definition.variables == ["name", "code"]


def test_sections_that_declare_no_variables_get_them_from_their_placeholders() -> None:
    text = "Dear {{0:name}}, order {{1:order_id}} ships today, {{0:name}}. Thanks a lot!"
    for declared in ({}, {"variables": None}, {"variables": []}):
        definition = parse_definition(
            {
                "header": {"template": "For {{3:name}} only"},
                "body": {"multiChannel": {"template": text, **declared}},
                "footer": {"template": "Reply {{0:stop_word}} to stop"},
            }
        )
        inferred = definition.body["multiChannel"].text.variables
        assert [(v.id, v.name, v.type) for v in inferred] == [
            (0, "name", "variable"),
            (1, "order_id", "variable"),
        ]
        assert inferred[0].props == {"sample": "name"}
        assert definition.header is not None and definition.footer is not None
        assert [(v.id, v.name) for v in definition.header.text.variables] == [(3, "name")]
        assert [(v.id, v.name) for v in definition.footer.variables] == [(0, "stop_word")]
        assert definition.variables == ["name", "order_id", "stop_word"]
        # Stored with the variables spelled out, it reads back the same.
        assert parse_definition(definition.to_wire()) == definition
        rendered = render_message(definition, "sms", {"name": "Ada", "order_id": "A-1"})
        assert rendered.content == "Dear Ada, order A-1 ships today, Ada. Thanks a lot!"


def test_inferred_variables_must_be_consistent() -> None:
    path = "definition.body.multiChannel.template"
    two_names = issues({"body": {"multiChannel": {"template": "Hi {{0:a}} and {{0:b}} there"}}})
    assert any("second name" in m for m in two_names[path]), two_names
    two_ids = issues({"body": {"multiChannel": {"template": "Hi {{0:a}} and {{1:a}} there"}}})
    assert any("reuses the name" in m for m in two_ids[path]), two_ids
    too_big = issues({"body": {"multiChannel": {"template": "Hi {{1000:a}} and you there"}}})
    assert any("go up to 999" in m for m in too_big[path]), too_big
    # Declared variables are still matched exactly, placeholders and all.
    declared = issues(
        {"body": {"multiChannel": body("Hi {{0:a}} and {{1:b}} there now, you", [var(0, "a")])}}
    )
    assert declared[path] == ["{{1:b}} has no variable with id 1"]


def test_variable_rules() -> None:
    found = issues(
        {
            "body": {
                "multiChannel": body(
                    "One {{0:a}} two {{1:b}} three {{2:c}} four five six seven",
                    [
                        var(0, "a"),
                        {"id": 1, "name": "b", "type": "link", "props": {"sample": "x"}},
                        {
                            "id": 2,
                            "name": "c",
                            "type": "media",
                            "props": {"sample": "x", "url": "https://x.test"},
                        },
                        {"id": 3, "name": "a", "type": "variable", "props": {"sample": "x"}},
                    ],
                )
            }
        }
    )
    path = "definition.body.multiChannel.variables"
    assert f"{path}[1].props.url" in found  # a link needs its url
    assert f"{path}[2].props.mediaType" in found  # a media variable its media type
    assert f"{path}[3].name" in found  # names are unique in a section
    sample = issues(
        {
            "body": {
                "multiChannel": body(
                    "Hi {{0:a}} there you",
                    [{"id": 0, "name": "a", "type": "variable", "props": {}}],
                )
            }
        }
    )
    assert f"{path}[0].props.sample" in sample
    numeric = parse_definition(
        {
            "body": {
                "multiChannel": body(
                    "Hi {{0:a}} there you",
                    [{"id": 0, "name": "a", "type": "variable", "props": {"sample": 42}}],
                )
            }
        }
    )
    assert numeric.body["multiChannel"].text.variables[0].props["sample"] == "42"


def test_header_kinds() -> None:
    image = parse_definition(
        {
            "body": {"multiChannel": SHARED},
            "header": {"type": "image", "template": "", "example_url": "https://s.dm/s/ABCDEFGH"},
        }
    )
    assert image.header is not None and image.header.type == "image"
    location = {"name": "HQ", "address": "1 Main St", "latitude": "52.5", "longitude": "13.4"}
    pin = parse_definition(
        {
            "body": {"multiChannel": SHARED},
            "header": {"type": "location", "template": "", "location": location},
        }
    )
    assert pin.header is not None and pin.header.location is not None
    assert "definition.header.location" in issues(
        {"body": {"multiChannel": SHARED}, "header": {"type": "location", "template": ""}}
    )
    assert "definition.header.template" in issues(
        {"body": {"multiChannel": SHARED}, "header": {"template": "Two\nlines"}}
    )


def test_button_rules() -> None:
    def buttons(*items: dict[str, Any]) -> dict[str, list[str]]:
        return issues({"body": {"multiChannel": SHARED}, "buttons": list(items)})

    url = {"type": "URL", "props": {"text": "Go", "url": "https://x.test/a"}}
    assert "definition.buttons" in buttons(*[{**url, "id": i} for i in range(3)])  # at most 2 URL
    static_with_variable = {
        "type": "URL",
        "props": {
            "text": "Go",
            "url": "https://x.test/{{0:a}}",
            "urlType": "static",
            "variables": [var(0, "a")],
        },
    }
    assert "definition.buttons[0].props.url" in buttons(static_with_variable)
    dynamic = {
        "type": "URL",
        "props": {"text": "Go", "url": "https://x.test/", "urlType": "dynamic"},
    }
    assert "definition.buttons[0].props.url" in buttons(dynamic)
    code = {"type": "COPY_CODE", "props": {"text": "Copy", "offerCode": "X" * 16}}
    assert "definition.buttons[0].props.offerCode" in buttons(code)
    reply = {"type": "QUICK_REPLY", "props": {"text": "Yes", "variables": [var(0, "a")]}}
    assert "definition.buttons[0].props.variables" in buttons(reply)
    ok = parse_definition(
        {
            "body": {"multiChannel": SHARED},
            "buttons": [
                {
                    "id": 1,
                    "type": "PHONE_NUMBER",
                    "props": {"text": "Call us", "phoneNumber": "+14155550100"},
                },
                {
                    "id": 2,
                    "type": "VOICE_CALL",
                    "props": {"text": "Call on WhatsApp", "activeFor": 7},
                },
                {
                    "id": 3,
                    "type": "COPY_CODE",
                    "props": {"text": "Copy code", "offerCode": "SAVE10"},
                },
            ],
        }
    )
    assert [b.type for b in ok.buttons] == ["PHONE_NUMBER", "VOICE_CALL", "COPY_CODE"]


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Your one-time passcode is ready for you now.", "AUTHENTICATION"),
        ("Enter the verification code we sent you now.", "AUTHENTICATION"),
        ("Flash sale today only for our best customers.", "MARKETING"),
        ("Get 15% off your next visit with us this week.", "MARKETING"),
        ("Your appointment is confirmed for Tuesday morning.", "UTILITY"),
    ],
)
def test_category_detection(text: str, category: str) -> None:
    assert detect_category(parse_definition({"body": {"multiChannel": body(text)}})) == category


def test_copy_code_means_marketing_and_otp_means_authentication() -> None:
    plain = {"multiChannel": body("Your appointment is confirmed for Tuesday.")}
    code = {"type": "COPY_CODE", "props": {"text": "Copy", "offerCode": "SAVE10"}}
    otp = {"type": "COPY_CODE", "props": {"text": "Copy", "otpType": "COPY_CODE"}}
    assert detect_category(parse_definition({"body": plain, "buttons": [code]})) == "MARKETING"
    assert detect_category(parse_definition({"body": plain, "buttons": [otp]})) == "AUTHENTICATION"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Hello {{0:first_name}}, welcome to Café Zoë today!", "hello_first_name_welcome_to_cafe"),
        ("¡¿!?", "template"),
        ("Order 42 shipped", "order_42_shipped"),
    ],
)
def test_derived_names(text: str, name: str) -> None:
    variables = [var(0, "first_name")] if "{{" in text else []
    assert derive_name(parse_definition({"body": {"multiChannel": body(text, variables)}})) == name


def test_whatsapp_components() -> None:
    media = parse_definition(
        {
            "body": {"multiChannel": SHARED},
            "header": {"type": "gif", "template": "", "example_url": "https://s.dm/s/ABCDEFGH"},
            "buttons": [
                {
                    "id": 1,
                    "type": "PHONE_NUMBER",
                    "props": {"text": "Call", "phoneNumber": "+14155550100"},
                },
                {"id": 2, "type": "COPY_CODE", "props": {"text": "Copy", "offerCode": "SAVE10"}},
            ],
        }
    )
    assert components(media, "MARKETING") == [
        {
            "type": "HEADER",
            "format": "VIDEO",
            "example": {"header_handle": ["https://s.dm/s/ABCDEFGH"]},
        },
        {
            "type": "BODY",
            "text": "Hello {{1}}, your table for tonight is ready.",
            "example": {"body_text": [["s"]]},
        },
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+14155550100"},
                {"type": "COPY_CODE", "example": "SAVE10"},
            ],
        },
    ]
    otp = parse_definition(
        {
            "body": {
                "multiChannel": body(
                    "Your code is {{0:code}}, valid ten minutes.", [var(0, "code")]
                )
            },
            "authenticationConfig": {"addSecurityRecommendation": True, "codeExpirationMinutes": 5},
        }
    )
    assert components(otp, "AUTHENTICATION") == [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 5},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]},
    ]
    import uuid

    template_id = uuid.UUID("1a2b3c4d-0000-4000-8000-000000000000")
    assert meta_name("Café Order: shipped!", template_id) == "cafe_order_shipped_1a2b3c4d"
    assert meta_name("¡¿!", template_id) == "template_1a2b3c4d"


# -- a property over near-valid definitions -------------------------------------------------

names = st.sampled_from(["name", "code", "order_id", "x", "9bad", ""])
variables = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.integers(0, 2),
            "name": names,
            "type": st.sampled_from(["variable", "variable", "link", "media", "other"]),
            "props": st.fixed_dictionaries(
                {"sample": st.sampled_from(["v", "", 3, True])},
                optional={
                    "url": st.sampled_from(["https://x.test/i", "nope"]),
                    "mediaType": st.just("image/png"),
                },
            ),
        },
        optional={"extra": st.none()},
    ),
    max_size=3,
)
texts = st.sampled_from(
    [
        "Hello {{0:name}}, your order is ready for pickup now.",
        "Dear {{0:name}}, order {{1:code}} ships today, thanks a lot.",
        "Your code {{0:code}} expires in ten minutes, do not share.",
        "Plain text without any variables at all.",
        "Hi {{0:name}}",
        "",
        "Bad {{name}} placeholder here",
    ]
) | st.text(max_size=30)
sections = st.fixed_dictionaries(
    {"template": texts},
    optional={"type": st.sampled_from(["text", "html"]), "variables": variables},
)
buttons = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from([*BUTTON_TYPES, "OTHER"]),
            "props": st.fixed_dictionaries(
                {"text": st.sampled_from(["Go", "Yes please", "", "x" * 30, "*b*"])},
                optional={
                    "url": st.sampled_from(["https://x.test/{{0:code}}", "https://x.test/a"]),
                    "urlType": st.sampled_from(["static", "dynamic"]),
                    "phoneNumber": st.sampled_from(["+14155550100", "12"]),
                    "offerCode": st.sampled_from(["SAVE", "X" * 20]),
                    "otpType": st.just("COPY_CODE"),
                    "variables": variables,
                },
            ),
        },
        optional={"id": st.integers(0, 3)},
    ),
    max_size=4,
)
VALID_SECTIONS = [
    body("Hello {{0:name}}, your order is ready for pickup now.", [var(0, "name")]),
    body(
        "Dear {{0:name}}, order {{1:code}} ships today, thanks a lot.",
        [var(0, "name"), var(1, "code")],
    ),
    body("Plain text without any variables at all."),
]
valid_sections = st.sampled_from(VALID_SECTIONS)
any_sections = valid_sections | sections
bodies = (
    st.fixed_dictionaries(
        {"multiChannel": valid_sections}, optional={"rcs": any_sections, "mms": any_sections}
    )
    | st.fixed_dictionaries(
        {"sms": valid_sections, "whatsapp": valid_sections}, optional={"rcs": any_sections}
    )
    | st.dictionaries(st.sampled_from(BODY_KEYS), any_sections, max_size=3)
)
valid_buttons = st.just(
    [
        {
            "id": 1,
            "type": "URL",
            "props": {
                "text": "Track",
                "url": "https://x.test/{{0:code}}",
                "variables": [var(0, "code")],
            },
        },
        {"id": 2, "type": "QUICK_REPLY", "props": {"text": "Thanks"}},
    ]
)
definitions = st.fixed_dictionaries(
    {"body": bodies},
    optional={
        "header": st.just({"template": "For {{0:name}}", "variables": [var(0, "name")]})
        | st.fixed_dictionaries(
            {"template": texts},
            optional={
                "type": st.sampled_from([*HEADER_TYPES, "banner"]),
                "variables": variables,
                "example_url": st.sampled_from(["https://s.dm/s/ABCDEFGH", "ftp://x"]),
            },
        ),
        "footer": st.just(body("Acme Inc")) | sections,
        "buttons": valid_buttons | buttons,
        "authenticationConfig": st.fixed_dictionaries(
            {},
            optional={
                "addSecurityRecommendation": st.booleans(),
                "codeExpirationMinutes": st.integers(-1, 100),
            },
        ),
        "definitionVersion": st.sampled_from(["1.0", ""]),
    },
)


@given(definitions)
def test_near_valid_definitions(raw: dict[str, Any]) -> None:
    try:
        definition = parse_definition(raw)
    except DefinitionError as exc:
        assert exc.issues
        assert all(re.match(r"definition(\.|\[|$)", path) for path in exc.issues)
        assert all(messages and all(messages) for messages in exc.issues.values())
        return
    assert parse_definition(definition.to_wire()) == definition
    assert definition.channels == [c for c in CHANNELS if c in definition.channels]
    assert detect_category(definition) in ("MARKETING", "UTILITY", "AUTHENTICATION")
    assert re.fullmatch(r"[a-z0-9_]+", derive_name(definition))
    parameters = dict.fromkeys(definition.variables, "value")
    for channel in definition.channels:
        rendered = render_message(definition, channel, parameters)
        assert "{{" not in rendered.content
