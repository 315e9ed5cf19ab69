"""Who is calling: the key's customer, mode and role, and the customer it acts as."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from sentd.auth.permissions import Role
from sentd.db.scope import Scope
from sentd.plans import Limits


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: uuid.UUID
    user_id: uuid.UUID
    role: Role
    livemode: bool
    key_customer_id: uuid.UUID  # the customer the key belongs to
    key_customer_kind: str  # "organization" or "profile"
    organization_id: uuid.UUID  # the organization at the root, for both kinds of key
    customer_id: uuid.UUID  # the customer this request acts as (x-profile-id may change it)
    plan: str
    limits: Limits  # the organization's, shared by its profiles

    @property
    def scope(self) -> Scope:
        return Scope(customer_id=self.customer_id, livemode=self.livemode)

    @property
    def is_organization_key(self) -> bool:
        return self.key_customer_kind == "organization"

    @property
    def acts_as_profile(self) -> bool:
        return self.customer_id != self.organization_id

    def acting_as(self, profile_id: uuid.UUID) -> Principal:
        return replace(self, customer_id=profile_id)
