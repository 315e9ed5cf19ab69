"""`/v3/profiles`: sender profiles of the organization."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v3/profiles", tags=["profiles"])
