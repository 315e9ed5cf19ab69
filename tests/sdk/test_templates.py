"""`client.templates.*` of the official SDK, in default and strict response validation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sent_dm

from tests.conftest import build_app
from tests.factories import make_org, make_profile
from tests.live_server import LiveServer
from tests.sdk.conftest import SdkFactory

# The SDK takes the definition with Python (snake_case) names and sends the camelCase wire keys.
DEFINITION: Any = {
    "body": {
        "multi_channel": {
            "template": "Hello {{0:name}}! Welcome to {{1:place}}. We are glad to have you here.",
            "type": "text",
            "variables": [
                {"id": 0, "name": "name", "type": "variable", "props": {"sample": "John"}},
                {"id": 1, "name": "place", "type": "variable", "props": {"sample": "Acme"}},
            ],
        }
    },
    "header": {"template": "Welcome", "type": "text"},
    "footer": {"template": "Reply STOP to opt out", "type": "text"},
    "buttons": [
        {
            "id": 1,
            "type": "URL",
            "props": {
                "text": "Visit us",
                "url": "https://acme.test/welcome",
                "url_type": "static",
                "variables": [],
            },
        },
    ],
    "definition_version": "1.0",
}


def _code(error: sent_dm.APIStatusError) -> str:
    assert isinstance(error.body, dict)
    code: str = error.body["error"]["code"]
    return code


@pytest.mark.parametrize("strict", [False, True])
def test_templates_lifecycle(server: LiveServer, sdk: SdkFactory, strict: bool) -> None:
    org = make_org(server)
    client = sdk(org.live_key, strict=strict)
    created = client.templates.create(definition=DEFINITION, language="en_US").data
    assert created is not None and created.id is not None
    assert created.customer_id == str(org.id)
    assert created.status == "DRAFT" and created.category == "UTILITY"
    assert created.channels == ["sms", "whatsapp", "rcs", "mms"]
    assert created.variables == ["name", "place"]
    assert created.created_at is not None and created.is_published is False
    stored = (created.model_extra or {})["definition"]
    assert stored["body"]["multiChannel"]["variables"][0]["props"] == {"sample": "John"}
    assert stored["buttons"][0]["props"]["urlType"] == "static"
    assert stored["definitionVersion"] == "1.0"

    fetched = client.templates.retrieve(created.id).data
    assert fetched is not None and fetched.name == created.name

    updated = client.templates.update(created.id, name="Welcome", category="MARKETING").data
    assert updated is not None and (updated.name, updated.category) == ("Welcome", "MARKETING")
    unchanged = client.templates.update(created.id, name=None).data  # sent as {"name": null}
    assert unchanged is not None and unchanged.name == "Welcome"

    page = client.templates.list(
        category="MARKETING", search="welc", is_welcome_playground=True, page=1, page_size=10
    )
    assert [t.id for t in page.data.templates or []] == [created.id]

    client.templates.delete(created.id)
    with pytest.raises(sent_dm.NotFoundError) as raised:
        client.templates.retrieve(created.id)
    assert _code(raised.value) == "RESOURCE_002"


@pytest.mark.parametrize("strict", [False, True])
def test_auto_pagination_visits_each_template_once(
    server: LiveServer, sdk: SdkFactory, strict: bool
) -> None:
    org = make_org(server)
    client = sdk(org.live_key, strict=strict)
    ids = []
    for _ in range(5):
        template = client.templates.create(definition=DEFINITION).data
        assert template is not None
        ids.append(template.id)
    assert [t.id for t in client.templates.list(page_size=2)] == ids
    assert [t.id for t in client.templates.list()] == ids  # no page, no page_size


@pytest.mark.parametrize("strict", [False, True])
def test_errors_through_the_sdk(server: LiveServer, sdk: SdkFactory, strict: bool) -> None:
    org = make_org(server)
    client = sdk(org.live_key, strict=strict)
    bad: Any = {"body": {"multi_channel": {"template": "Hello {{0:name}}"}}}
    with pytest.raises(sent_dm.BadRequestError) as raised:
        client.templates.create(definition=bad)
    assert _code(raised.value) == "VALIDATION_001"
    assert isinstance(raised.value.body, dict)
    assert "definition.body.multiChannel.template" in raised.value.body["error"]["details"]
    with pytest.raises(sent_dm.BadRequestError) as raised:
        client.templates.create(definition=DEFINITION, category="PROMO")
    assert _code(raised.value) == "VALIDATION_006"
    with pytest.raises(sent_dm.BadRequestError) as raised:
        client.templates.retrieve("tpl_1")
    assert _code(raised.value) == "VALIDATION_003"
    with pytest.raises(sent_dm.NotFoundError):
        client.templates.update("7ba7b820-9dad-11d1-80b4-00c04fd430c8", name="x")
    with pytest.raises(sent_dm.BadRequestError) as raised:
        list(client.templates.list(page_size=101))
    assert _code(raised.value) == "VALIDATION_005"


def test_sandbox_through_the_sdk(server: LiveServer, sdk: SdkFactory) -> None:
    org = make_org(server)
    client = sdk(org.live_key, strict=True)
    response = client.templates.with_raw_response.create(definition=DEFINITION, sandbox=True)
    assert response.headers["x-sandbox"] == "true"
    assert response.parse().data is not None
    assert list(client.templates.list()) == []
    kept = client.templates.create(definition=DEFINITION).data
    assert kept is not None and kept.id is not None
    client.templates.delete(kept.id, sandbox=True)
    assert [t.id for t in client.templates.list()] == [kept.id]


@pytest.mark.parametrize("strict", [False, True])
def test_inherited_templates_through_x_profile_id(
    server: LiveServer, sdk: SdkFactory, strict: bool
) -> None:
    org = make_org(server)
    profile_id = str(make_profile(server, org)["id"])
    client = sdk(org.live_key, strict=strict)
    shared = client.templates.create(definition=DEFINITION).data
    assert shared is not None and shared.id is not None
    [seen] = list(client.templates.list(x_profile_id=profile_id))
    assert seen.id == shared.id and seen.customer_id == str(org.id)
    with pytest.raises(sent_dm.UnprocessableEntityError) as raised:
        client.templates.update(shared.id, name="Mine", x_profile_id=profile_id)
    assert _code(raised.value) == "TEMPLATE_001"
    with pytest.raises(sent_dm.UnprocessableEntityError):
        client.templates.delete(shared.id, x_profile_id=profile_id)


@pytest.fixture(scope="module")
def manual(database_url: str) -> Iterator[LiveServer]:
    live = LiveServer(build_app(database_url, template_review_backend="manual")).start()
    yield live
    live.stop()


@pytest.mark.parametrize("strict", [False, True])
def test_review_conflict_is_not_retried(manual: LiveServer, strict: bool) -> None:
    org = make_org(manual)
    with sent_dm.Sent(
        base_url=manual.base_url, api_key=org.live_key, _strict_response_validation=strict
    ) as client:
        template = client.templates.create(definition=DEFINITION, submit_for_review=True).data
        assert template is not None and template.id is not None and template.status == "PENDING"
        response = client.templates.with_raw_response.update(template.id, name="Renamed")
        assert response.parse().data is not None
        with pytest.raises(sent_dm.ConflictError) as raised:
            client.templates.update(template.id, category="MARKETING")
        assert _code(raised.value) == "CONFLICT_006"
        assert raised.value.response.headers["x-should-retry"] == "false"
        assert raised.value.response.request.headers["x-stainless-retry-count"] == "0"
