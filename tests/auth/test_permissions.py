"""Roles and the permission matrix: AUTH_004 when a role lacks a permission."""

from __future__ import annotations

import httpx
import pytest

from sentd.auth.permissions import MATRIX, Permission, Role, allows
from tests.contract import assert_error, assert_ok
from tests.factories import make_key, make_org
from tests.live_server import LiveServer


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("owner", True), ("admin", True), ("developer", True), ("billing", False)],
)
def test_messaging_routes_by_role(
    server: LiveServer, client: httpx.Client, role: str, allowed: bool
) -> None:
    org = make_org(server)
    key = make_key(server, org, role=role)
    response = client.get("/v3/_probe/messaging", headers={"x-api-key": key})
    if allowed:
        assert assert_ok(response) == {"role": role}
    else:
        error = assert_error(response, "AUTH_004")
        assert "role" in error["details"]


@pytest.mark.parametrize("role", ["owner", "admin", "developer", "billing"])
def test_every_role_reads_me(server: LiveServer, client: httpx.Client, role: str) -> None:
    org = make_org(server)
    data = assert_ok(client.get("/v3/me", headers={"x-api-key": make_key(server, org, role=role)}))
    assert data["role"] == role


def test_matrix_covers_every_permission() -> None:
    assert set(MATRIX) == set(Permission)
    assert all(allows(Role.OWNER, p) for p in Permission)  # the owner passes every check
    assert not allows(Role.DEVELOPER, Permission.USERS_MANAGE)
    assert not allows(Role.DEVELOPER, Permission.BILLING)
    assert allows(Role.BILLING, Permission.BILLING)
    assert not allows(Role.BILLING, Permission.PROFILES_MANAGE)
