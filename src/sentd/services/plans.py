"""An organization's plan and its limit overrides."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any

from sentd.db.database import Database
from sentd.db.repos import api_keys, customers
from sentd.plans import effective_limits


class UnknownOrganization(Exception):
    pass


@dataclass(frozen=True, slots=True)
class PlanView:
    organization_id: uuid.UUID
    plan: str
    overrides: dict[str, int]
    limits: dict[str, int]


async def set_plan(
    db: Database,
    customer_id: uuid.UUID,
    *,
    plan: str | None,
    overrides: dict[str, int],
    reset: bool,
    request_rates: dict[str, int],
) -> PlanView:
    async with db.transaction() as conn:
        org = await customers.lock_plan_of(conn, customer_id)
        if org is None:
            raise UnknownOrganization(str(customer_id))
        merged: dict[str, Any] = ({} if reset else dict(org["limits"] or {})) | overrides
        row = await customers.set_plan_and_limits(conn, org["id"], plan or org["plan"], merged)
        await api_keys.notify_limits_changed(conn, row["id"])
    limits = effective_limits(row["plan"], row["limits"], request_rates)
    return PlanView(row["id"], row["plan"], dict(row["limits"]), dataclasses.asdict(limits))
