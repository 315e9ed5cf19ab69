"""`/v3/users`: dashboard users of the organization."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v3/users", tags=["users"])
