"""The official `sentdm` SDK against `/v3/users`: every route, loose and strict."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
import sent_dm

from sentd.services import users as user_service
from tests.api.test_users import add_member, new_email
from tests.factories import make_key, make_org, make_profile
from tests.live_server import LiveServer
from tests.sdk.conftest import SdkFactory


@pytest.mark.parametrize("strict", [False, True])
def test_every_users_route(server: LiveServer, sdk: SdkFactory, strict: bool) -> None:
    org = make_org(server)
    member = add_member(server, org, "admin")
    client = sdk(org.live_key, strict=strict)
    email = new_email()

    invited = client.users.invite(email=email, name="Ada", role="developer")
    assert invited.success is True
    user = invited.data
    assert user is not None and user.id is not None
    assert (user.email, user.name, user.role, user.status) == (email, "Ada", "developer", "invited")
    assert user.customer_id == str(org.id)
    assert isinstance(user.created_at, datetime) and isinstance(user.updated_at, datetime)
    assert isinstance(user.invited_at, datetime)
    assert user.last_login_at is None
    assert invited.meta is not None and invited.meta.version == "v3"

    listed = client.users.list()
    assert listed.data is not None and listed.data.users is not None
    assert [u.id for u in listed.data.users] == [str(member.id), user.id]
    assert listed.data.users[0].status == "active" and listed.data.users[0].role == "admin"
    page = listed.data.pagination
    assert page is not None
    assert (page.page, page.total_count, page.total_pages, page.has_more) == (1, 2, 1, False)

    retrieved = client.users.retrieve(user.id).data
    assert retrieved is not None
    assert retrieved.model_dump() == user.model_dump()

    updated = client.users.update_role(user.id, role="billing").data
    assert updated is not None
    assert (updated.id, updated.role, updated.status) == (user.id, "billing", "invited")

    client.users.remove(user.id)  # 204; raises on any error
    with pytest.raises(sent_dm.NotFoundError) as raised:
        client.users.retrieve(user.id)
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["error"]["code"] == "RESOURCE_006"


@pytest.mark.parametrize("strict", [False, True])
def test_users_as_a_profile_and_in_sandbox(
    server: LiveServer, sdk: SdkFactory, strict: bool
) -> None:
    org = make_org(server)
    profile = make_profile(server, org)
    client = sdk(org.live_key, strict=strict)
    pid = str(profile["id"])
    data = client.users.invite(email=new_email(), role="admin", x_profile_id=pid).data
    assert data is not None and data.customer_id == str(org.id)
    users = client.users.list(x_profile_id=pid).data
    assert users is not None and [u.id for u in users.users or []] == [data.id]

    raw = client.users.with_raw_response.invite(email=new_email(), role="developer", sandbox=True)
    assert raw.status_code == 201 and raw.headers["x-sandbox"] == "true"
    sandboxed = raw.parse().data
    assert sandboxed is not None and sandboxed.status == "invited"
    assert data.id is not None
    client.users.remove(data.id, sandbox=True)
    after = client.users.list().data
    assert after is not None and [u.id for u in after.users or []] == [data.id]


def test_sdk_errors(server: LiveServer, sdk: SdkFactory) -> None:
    org = make_org(server)
    member = add_member(server, org, "admin")
    owner = sdk(org.live_key, strict=True)
    with pytest.raises(sent_dm.PermissionDeniedError):
        sdk(make_key(server, org, role="billing")).users.invite(email=new_email(), role="admin")
    with pytest.raises(sent_dm.ConflictError):  # not retried: x-should-retry: false
        owner.users.invite(email=member.email, role="developer")
    with pytest.raises(sent_dm.BadRequestError):
        owner.users.invite(email=new_email(), role="owner")
    with pytest.raises(sent_dm.UnprocessableEntityError) as raised:
        sdk(member.key).users.remove(str(member.id))
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["error"]["code"] == "ACCOUNT_001"
    with pytest.raises(sent_dm.UnprocessableEntityError) as raised:
        owner.users.update_role(str(member.id), role="developer")
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["error"]["code"] == "ACCOUNT_002"
    with pytest.raises(sent_dm.NotFoundError):
        owner.users.update_role(str(uuid.uuid4()), role="developer")
    with pytest.raises(sent_dm.BadRequestError):
        owner.users.retrieve("not-a-uuid")


def test_invited_user_accepts_and_lists_as_active(server: LiveServer, sdk: SdkFactory) -> None:
    org = make_org(server)
    client = sdk(org.test_key, strict=True)
    email = new_email()
    invited = client.users.invite(email=email, role="developer").data
    assert invited is not None
    db = server.app.state.db
    now = server.app.state.clock.now()
    fresh = server.run(user_service.reissue(db, email, organization_id=org.id, now=now))
    server.run(user_service.accept(db, fresh.token, now=now))
    assert invited.id is not None
    active = client.users.retrieve(invited.id).data
    assert active is not None and active.status == "active"
    assert active.updated_at is not None and invited.updated_at is not None
    assert active.updated_at >= invited.updated_at
