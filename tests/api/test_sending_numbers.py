"""Sending numbers belong to one customer: a profile's SMS or WhatsApp number that another
customer holds is refused with 409 `RESOURCE_007` naming the field, and nothing is written. Over
real HTTP against the live test server."""

from __future__ import annotations

import random
import threading
import uuid
from typing import Any

import httpx
import pytest

from sentd.phones import InvalidPhoneNumber, describe
from tests.contract import assert_error, assert_ok
from tests.factories import Org, _db, make_org, table_counts
from tests.live_server import LiveServer

FIELDS = ("sending_phone_number", "whatsapp_phone_number")


def claimable_number() -> str:
    """A valid US number no other test claims."""
    while True:
        candidate = f"+1650{random.randint(2_000_000, 9_999_999)}"
        try:
            describe(candidate)
        except InvalidPhoneNumber:
            continue
        return candidate


def new_profile(client: httpx.Client, org: Org) -> str:
    body = {"name": "Shop", "billing_model": "organization"}
    created = client.post("/v3/profiles", json=body, headers={"x-api-key": org.live_key})
    profile_id: str = assert_ok(created, 201)["id"]
    return profile_id


def patch(client: httpx.Client, key: str, profile_id: str, **fields: Any) -> httpx.Response:
    return client.patch(f"/v3/profiles/{profile_id}", json=fields, headers={"x-api-key": key})


def profile(client: httpx.Client, org: Org, profile_id: str) -> dict[str, Any]:
    data: dict[str, Any] = assert_ok(
        client.get(f"/v3/profiles/{profile_id}", headers={"x-api-key": org.live_key})
    )
    return data


def owner(server: LiveServer, number: str) -> uuid.UUID | None:
    async def go() -> uuid.UUID | None:
        async with _db(server).connection() as conn:
            found: uuid.UUID | None = await conn.fetchval(
                "SELECT customer_id FROM sending_numbers WHERE phone_number = $1", number
            )
            return found

    return server.run(go())


@pytest.mark.parametrize("field", FIELDS)
def test_a_number_another_customer_holds_is_refused(
    server: LiveServer, client: httpx.Client, field: str
) -> None:
    first, second = make_org(server), make_org(server)
    mine, theirs = new_profile(client, first), new_profile(client, second)
    number = claimable_number()
    assert assert_ok(patch(client, first.live_key, mine, **{field: number}))[field] == number
    before_profile = profile(client, second, theirs)
    before = table_counts(server)
    # Either field of another customer collides: one number is one line, one owner.
    for other_field in FIELDS:
        for key in (second.live_key, second.test_key):  # claims are not per mode
            response = patch(client, key, theirs, **{other_field: number}, description="x")
            error = assert_error(response, "RESOURCE_007")
            assert list(error["details"]) == [other_field]
            assert number in error["details"][other_field][0]
    assert profile(client, second, theirs) == before_profile  # not even the description
    assert table_counts(server) == before
    assert owner(server, number) == uuid.UUID(mine)


def test_profiles_of_one_organization_are_different_customers(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    one, two = new_profile(client, org), new_profile(client, org)
    number = claimable_number()
    assert_ok(patch(client, org.live_key, one, sending_phone_number=number))
    error = assert_error(
        patch(client, org.live_key, two, sending_phone_number=number), "RESOURCE_007"
    )
    assert list(error["details"]) == ["sending_phone_number"]


def test_one_customer_may_use_its_number_for_both_fields(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    mine = new_profile(client, org)
    number = claimable_number()
    data = assert_ok(
        patch(client, org.live_key, mine, sending_phone_number=number, whatsapp_phone_number=number)
    )
    assert (data["sending_phone_number"], data["whatsapp_phone_number"]) == (number, number)
    # Setting the same number again is no conflict with itself.
    assert_ok(patch(client, org.live_key, mine, sending_phone_number=number))
    assert owner(server, number) == uuid.UUID(mine)


def test_changing_clearing_or_deleting_releases_the_number(
    server: LiveServer, client: httpx.Client
) -> None:
    first, second = make_org(server), make_org(server)
    mine, theirs = new_profile(client, first), new_profile(client, second)
    old, new = claimable_number(), claimable_number()
    assert_ok(patch(client, first.live_key, mine, sending_phone_number=old))
    assert_ok(patch(client, first.live_key, mine, sending_phone_number=new))  # old released
    assert_ok(patch(client, second.live_key, theirs, sending_phone_number=old))
    assert owner(server, old) == uuid.UUID(theirs)
    assert_ok(patch(client, second.live_key, theirs, sending_phone_number=None))
    assert owner(server, old) is None
    assert_ok(patch(client, first.live_key, mine, whatsapp_phone_number=old))
    response = client.delete(f"/v3/profiles/{mine}", headers={"x-api-key": first.live_key})
    assert response.status_code in (200, 204), response.text
    assert owner(server, old) is None and owner(server, new) is None
    assert_ok(patch(client, second.live_key, theirs, whatsapp_phone_number=new))


def test_a_sandbox_request_claims_nothing(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    mine = new_profile(client, org)
    number = claimable_number()
    assert_ok(patch(client, org.live_key, mine, sending_phone_number=number, sandbox=True))
    assert owner(server, number) is None


def test_racing_claims_have_one_winner(server: LiveServer, client: httpx.Client) -> None:
    contenders = [(org, new_profile(client, org)) for org in (make_org(server) for _ in range(8))]
    number = claimable_number()
    statuses: list[int] = []
    start = threading.Barrier(len(contenders))

    def claim(org: Org, profile_id: str) -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as own:
            start.wait()
            response = patch(own, org.live_key, profile_id, whatsapp_phone_number=number)
            if response.status_code != 200:
                assert_error(response, "RESOURCE_007")
            statuses.append(response.status_code)

    threads = [threading.Thread(target=claim, args=c) for c in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200] + [409] * (len(contenders) - 1)
    winner = owner(server, number)
    holders = [
        pid
        for org, pid in contenders
        if profile(client, org, pid)["whatsapp_phone_number"] == number
    ]
    assert holders == [str(winner)]
