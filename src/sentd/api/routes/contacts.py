"""`/v3/contacts`."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v3/contacts", tags=["contacts"])
