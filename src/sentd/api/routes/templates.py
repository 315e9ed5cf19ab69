"""`/v3/templates`: message templates and their review."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v3/templates", tags=["templates"])
