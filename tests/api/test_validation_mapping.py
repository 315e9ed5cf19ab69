"""The mapping from pydantic error types to catalog codes, without HTTP."""

from __future__ import annotations

import pytest

from sentd.api.validation import api_error_from, field_path


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("body", "to", 1), "to[1]"),
        (("body", "template", "id"), "template.id"),
        (("query", "page_size"), "page_size"),
        (("body", "channels", "sms", 0, "from"), "channels.sms[0].from"),
        (("body",), "body"),
    ],
)
def test_field_path(loc: tuple[str | int, ...], path: str) -> None:
    assert field_path(loc) == path


def test_one_kind_keeps_its_code() -> None:
    error = api_error_from(
        [
            {"type": "missing", "loc": ("body", "to"), "msg": "Field required"},
            {"type": "missing", "loc": ("body", "template", "id"), "msg": "Field required"},
        ]
    )
    assert error.code == "VALIDATION_004"
    assert error.details == {
        "to": ["This field is required"],
        "template.id": ["This field is required"],
    }


def test_unknown_type_is_generic() -> None:
    error = api_error_from([{"type": "int_parsing", "loc": ("body", "x"), "msg": "bad"}])
    assert error.code == "VALIDATION_001"
    assert error.details == {"x": ["bad"]}
