"""Whose balance pays for a customer's messages."""

from __future__ import annotations

import uuid

import pytest

from sentd.db.scope import Scope
from sentd.services.billing import funding_scopes

ORG, PROFILE = uuid.uuid4(), uuid.uuid4()


def profile(model: str | None) -> dict[str, object]:
    settings = {} if model is None else {"billing_model": model}
    return {"id": PROFILE, "kind": "profile", "organization_id": ORG, "settings": settings}


@pytest.mark.parametrize(
    ("model", "payers"),
    [
        (None, [PROFILE]),
        ("profile", [PROFILE]),
        ("organization", [ORG]),
        ("profile_and_organization", [PROFILE, ORG]),
    ],
)
def test_profile_billing_models(model: str | None, payers: list[uuid.UUID]) -> None:
    assert funding_scopes(profile(model), False) == [Scope(p, False) for p in payers]


def test_an_organization_pays_for_itself() -> None:
    org = {"id": ORG, "kind": "organization", "organization_id": None, "settings": {}}
    assert funding_scopes(org, True) == [Scope(ORG, True)]
