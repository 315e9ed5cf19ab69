"""Roles and the one permission matrix every route is checked against (see docs/permissions.md)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    DEVELOPER = "developer"
    BILLING = "billing"


class Permission(StrEnum):
    ACCOUNT_READ = "account:read"  # GET /v3/me, GET /v3/organizations/{id}
    MESSAGING = "messaging"  # messages, conversations, contacts, templates, numbers, webhooks
    USERS_READ = "users:read"
    USERS_MANAGE = "users:manage"
    PROFILES_READ = "profiles:read"
    PROFILES_MANAGE = "profiles:manage"
    BILLING = "billing"


_ALL = frozenset(Role)
_BUILDERS = frozenset({Role.OWNER, Role.ADMIN, Role.DEVELOPER})
_MANAGERS = frozenset({Role.OWNER, Role.ADMIN})

MATRIX: dict[Permission, frozenset[Role]] = {
    Permission.ACCOUNT_READ: _ALL,
    Permission.MESSAGING: _BUILDERS,
    Permission.USERS_READ: _ALL,
    Permission.USERS_MANAGE: _MANAGERS,
    Permission.PROFILES_READ: _ALL,
    Permission.PROFILES_MANAGE: _MANAGERS,
    Permission.BILLING: frozenset({Role.OWNER, Role.ADMIN, Role.BILLING}),
}


def allows(role: Role, permission: Permission) -> bool:
    return role in MATRIX[permission]
