"""db.repos.api_keys: the lookup behind authentication, revocation and suspension."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sentd.auth import keys as key_format
from sentd.db.repos import api_keys, customers
from sentd.services import keys
from tests.fast.factories import make_org, make_profile


async def test_a_usable_key_names_its_customer_role_and_organization(db_conn: Any) -> None:
    org = await make_org(db_conn)
    digest = key_format.digest(org.live_key)
    row = await api_keys.touch_active(db_conn, digest)
    assert row["customer_id"] == org.id and row["organization_id"] == org.id
    assert row["customer_kind"] == "organization" and row["role"] == "owner"
    assert row["livemode"] is True and row["user_id"] == org.owner_id
    listed = {r["id"]: r for r in await api_keys.list_all(db_conn, org.id)}
    assert listed[row["id"]]["last_used_at"] is not None  # touched
    test = await api_keys.touch_active(db_conn, key_format.digest(org.test_key))
    assert test["livemode"] is False
    assert await api_keys.touch_active(db_conn, key_format.digest("sk_live_" + "0" * 40)) is None


async def test_a_profile_key_belongs_to_the_profile_under_its_organization(db_conn: Any) -> None:
    org = await make_org(db_conn)
    profile = await make_profile(db_conn, org)
    issued = await keys.issue(
        db_conn, customer_id=profile["id"], user_id=org.owner_id, livemode=True
    )
    row = await api_keys.touch_active(db_conn, key_format.digest(issued.plaintext))
    assert row["customer_id"] == profile["id"] and row["customer_kind"] == "profile"
    assert row["organization_id"] == org.id


async def test_revoked_and_expired_keys_do_not_authenticate(db_conn: Any) -> None:
    org = await make_org(db_conn)
    digest = key_format.digest(org.live_key)
    revoked = await api_keys.revoke(db_conn, digest=digest)
    assert revoked["revoked_at"] is not None
    assert await api_keys.touch_active(db_conn, digest) is None
    assert not await api_keys.is_suspended_key(db_conn, digest)
    expired = await keys.issue(
        db_conn,
        customer_id=org.id,
        user_id=org.owner_id,
        livemode=True,
        expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    assert await api_keys.touch_active(db_conn, key_format.digest(expired.plaintext)) is None


async def test_a_suspended_organization_refuses_its_keys_and_its_profiles(db_conn: Any) -> None:
    org = await make_org(db_conn)
    profile = await make_profile(db_conn, org)
    issued = await keys.issue(
        db_conn, customer_id=profile["id"], user_id=org.owner_id, livemode=True
    )
    digests = [key_format.digest(org.live_key), key_format.digest(issued.plaintext)]
    assert sorted(await api_keys.active_digests_of_organization(db_conn, org.id)) == sorted(
        [*digests, key_format.digest(org.test_key)]
    )
    await customers.set_suspended(db_conn, org.id, True)
    for digest in digests:
        assert await api_keys.touch_active(db_conn, digest) is None
        assert await api_keys.is_suspended_key(db_conn, digest)
    await customers.set_suspended(db_conn, org.id, False)
    assert all([await api_keys.touch_active(db_conn, digest) for digest in digests])


async def test_revoking_all_keys_of_a_customer(db_conn: Any) -> None:
    org, other = await make_org(db_conn), await make_org(db_conn)
    revoked = await api_keys.revoke_all(db_conn, customer_id=org.id)
    assert sorted(revoked) == sorted(
        [key_format.digest(org.live_key), key_format.digest(org.test_key)]
    )
    assert await api_keys.touch_active(db_conn, key_format.digest(org.live_key)) is None
    assert await api_keys.touch_active(db_conn, key_format.digest(other.live_key)) is not None
    assert await api_keys.active_digests_of_user(db_conn, org.owner_id) == []
