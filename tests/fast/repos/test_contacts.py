"""db.repos.contacts: one live contact per number and scope, lookups, search and deletion."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sentd.db.repos import contacts
from sentd.db.scope import Scope
from sentd.phones import describe
from tests.fast.factories import make_org, make_profile


async def test_one_contact_per_number_in_a_scope(db_conn: Any) -> None:
    org = await make_org(db_conn)
    info = describe("+14155550100")
    first = await contacts.insert(db_conn, org.scope(), "+1 415 555 0100", info, ["sms"])
    assert first["phone_e164"] == "+14155550100" and first["phone_number"] == "+1 415 555 0100"
    assert await contacts.insert(db_conn, org.scope(), "+14155550100", info, ["sms"]) is None
    # The other mode is another scope.
    assert await contacts.insert(db_conn, org.scope(False), "+14155550100", info, ["sms"])
    found = await contacts.get_by_phone(db_conn, org.scope(), "+14155550100")
    assert found["id"] == first["id"]


async def test_a_deleted_contact_is_gone_and_its_number_free_again(db_conn: Any) -> None:
    org = await make_org(db_conn)
    info = describe("+14155550100")
    row = await contacts.insert(db_conn, org.scope(), "+14155550100", info, ["sms"])
    await contacts.soft_delete(db_conn, row["id"], datetime.now(UTC))
    assert await contacts.get_by_phone(db_conn, org.scope(), "+14155550100") is None
    assert await contacts.get_visible(db_conn, org.scope(), None, row["id"]) is None
    again = await contacts.insert(db_conn, org.scope(), "+14155550100", info, ["sms"])
    assert again is not None and again["id"] != row["id"]


async def test_many_numbers_at_once(db_conn: Any) -> None:
    org = await make_org(db_conn)
    for number in ("+14155550101", "+14155550102"):
        await contacts.insert(db_conn, org.scope(), number, describe(number), ["sms"])
    found = await contacts.get_many_by_phone(
        db_conn, org.scope(), ["+14155550101", "+14155550102", "+14155550109"]
    )
    assert sorted(found) == ["+14155550101", "+14155550102"]


async def test_a_profile_sees_its_organizations_contacts_only_when_told(db_conn: Any) -> None:
    org = await make_org(db_conn)
    profile = await make_profile(db_conn, org)
    info = describe("+14155550100")
    mine = await contacts.insert(db_conn, org.scope(), "+14155550100", info, ["sms"])
    profile_scope = Scope(profile["id"], True)
    assert await contacts.get_visible(db_conn, profile_scope, None, mine["id"]) is None
    seen = await contacts.get_visible(db_conn, profile_scope, org.id, mine["id"])
    assert seen["id"] == mine["id"]


async def test_search_treats_like_wildcards_as_text(db_conn: Any) -> None:
    org = await make_org(db_conn)
    for number in ("+14155550101", "+14155550102", "+442079460000"):
        await contacts.insert(db_conn, org.scope(), number, describe(number), ["sms", "whatsapp"])

    async def numbers(**filters: Any) -> list[str]:
        options: dict[str, Any] = {"search": None, "channel": None, "phone_prefix": None}
        rows, total = await contacts.page(
            db_conn, org.scope(), None, **(options | filters), limit=10, offset=0
        )
        assert total == len(rows)
        return sorted(r["phone_e164"] for r in rows)  # one transaction: equal created_at

    assert await numbers() == ["+14155550101", "+14155550102", "+442079460000"]
    assert await numbers(search="5550102") == ["+14155550102"]
    assert await numbers(phone_prefix="+44") == ["+442079460000"]
    assert await numbers(search="%") == []  # a literal percent sign, not "anything"
    assert await numbers(phone_prefix="_") == []
    assert await numbers(channel="whatsapp") == await numbers()
    assert await numbers(channel="rcs") == []
