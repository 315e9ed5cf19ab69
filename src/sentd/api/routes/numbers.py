"""`/v3/numbers/lookup/{phone_number}`."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v3/numbers", tags=["numbers"])
